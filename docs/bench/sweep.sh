#!/bin/sh
# The sweep of docs/benchmarks.md: wisp pinned to core 0, wisp-load (publisher + viewers) to core 1,
# everything on 127.0.0.1. Usage: docs/bench/sweep.sh [server-binary] [out-dir] [N...]
# Builds wisp and wisp-load first when no server binary is given.
set -eu
cd "$(dirname "$0")/../.."
bin=${1:-}
out=${2:-/tmp/wisp-sweep}
shift 2 2>/dev/null || shift $#
ns=${*:-"1 10 50 100 200 400"}
http=${WISP_BENCH_HTTP:-127.0.0.1:18080}   # not 8080: another wisp may be running on this machine
udp=${WISP_BENCH_UDP:-18189}
mkdir -p "$out"
if [ -z "$bin" ]; then
	go build -o "$out/wisp" ./cmd/wisp
	bin="$out/wisp"
fi
go build -o "$out/wisp-load" ./cmd/wisp-load
for n in $ns; do
	taskset -c 0 "$bin" -http "$http" -udp-port "$udp" -ice-host 127.0.0.1 -ice-tcp=false -rate-limit 0 -max-negotiating 0 -max-sessions 0 -log-level warn >"$out/server-$n.log" 2>&1 &
	pid=$!
	sleep 1
	taskset -c 1 "$out/wisp-load" view \
		-whip "http://$http/whip/bench" -video testdata/media/h264-720p.h264 -audio testdata/media/opus.ogg -data data \
		-whep "http://$http/whep/bench" -n "$n" -ramp 20 -duration 20s -count -pid "$pid" >"$out/n$n.json"
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	echo "N=$n done: $out/n$n.json"
done
