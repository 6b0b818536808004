#!/bin/sh
# The sweep of docs/benchmarks.md: wisp pinned to core 0, wisp-load (publisher + viewers) to core 1,
# everything on 127.0.0.1. Usage: docs/bench/sweep.sh [server-binary] [out-dir] [N...]
# Builds wisp and wisp-load first when no server binary is given.
# WISP_BENCH_KIND=mediamtx runs a MediaMTX binary instead (WHIP/WHEP on WISP_BENCH_HTTP, media on
# WISP_BENCH_UDP, loopback only); WISP_BENCH_DATA= (empty) leaves out the data channel (MediaMTX
# relays none); extra wisp flags go in WISP_BENCH_FLAGS (e.g. -batch-egress).
set -eu
cd "$(dirname "$0")/../.."
bin=${1:-}
out=${2:-/tmp/wisp-sweep}
shift 2 2>/dev/null || shift $#
ns=${*:-"1 10 50 100 200 400"}
http=${WISP_BENCH_HTTP:-127.0.0.1:18080}   # not 8080: another wisp may be running on this machine
udp=${WISP_BENCH_UDP:-18189}
kind=${WISP_BENCH_KIND:-wisp}
data=${WISP_BENCH_DATA-data}
mkdir -p "$out"
if [ -z "$bin" ]; then
	go build -o "$out/wisp" ./cmd/wisp
	bin="$out/wisp"
fi
go build -o "$out/wisp-load" ./cmd/wisp-load
for n in $ns; do
	if [ "$kind" = mediamtx ]; then
		printf 'logLevel: warn\nrtsp: no\nrtmp: no\nhls: no\nsrt: no\napi: no\nwebrtc: yes\nwebrtcAddress: %s\nwebrtcLocalUDPAddress: 127.0.0.1:%s\nwebrtcLocalTCPAddress: ""\nwebrtcIPsFromInterfaces: no\nwebrtcAdditionalHosts: [127.0.0.1]\npaths:\n  all_others:\n' "$http" "$udp" >"$out/mediamtx.yml"
		taskset -c 0 "$bin" "$out/mediamtx.yml" >"$out/server-$n.log" 2>&1 &
		whip="http://$http/bench/whip" whep="http://$http/bench/whep"
	else
		# shellcheck disable=SC2086
		taskset -c 0 "$bin" -http "$http" -udp-port "$udp" -ice-host 127.0.0.1 -ice-tcp=false -rate-limit 0 -max-negotiating 0 -max-sessions 0 -metrics off -log-level warn ${WISP_BENCH_FLAGS:-} >"$out/server-$n.log" 2>&1 &
		whip="http://$http/whip/bench" whep="http://$http/whep/bench"
	fi
	pid=$!
	sleep 1
	taskset -c 1 "$out/wisp-load" view \
		-whip "$whip" -video testdata/media/h264-720p.h264 -audio testdata/media/opus.ogg ${data:+-data "$data"} \
		-whep "$whep" -n "$n" -ramp 20 -duration 20s -count -pid "$pid" >"$out/n$n.json"
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	echo "N=$n done: $out/n$n.json"
done
