#!/bin/sh
# Issue 12's estimator cost (docs/benchmarks.md "Per-viewer automatic layers (issue 12)"): N
# viewers that send transport-cc feedback (wisp-load view -count -twcc) of a three-layer rid
# simulcast stream (180p / 360p / 720p H.264 + Opus + a data message every 100 ms, PLI-deaf), in
# three arms, in turn, ROUNDS times (the order rotates each round):
#   off   -auto-layers=false, every viewer pins layer h (WHEP layer extension): no estimator;
#   auto  -auto-layers=true, every viewer pins layer h: each viewer's PeerConnection stamps
#         transport-cc, reads the feedback into pion's GCC and runs its chooser loop, on the same
#         bytes as "off" (the pin holds the layer);
#   free  -auto-layers=true, no pin: the chooser picks (the layers the viewers end on are in the
#         JSON's "layers").
# A fresh server each run, pinned to core 0; wisp-load (publisher and viewers) on core 1.
# The load average (/proc/loadavg) is written beside every JSON result (*.load).
#
# Usage: docs/bench/estimator.sh [wisp-binary] [out-dir] [rounds] [N] [settle] [arms]
# Builds wisp and wisp-load when no binary is given. settle (default 10s) is the wait between the
# last viewer's first keyframe and the 20 s window (time for the choosers to probe up).
# Ports: HTTP 127.0.0.1:18790, UDP 18790 (WISP_BENCH_HTTP / WISP_BENCH_UDP change them).
set -eu
cd "$(dirname "$0")/../.."
bin=${1:-}
out=${2:-/tmp/wisp-estimator12}
rounds=${3:-2}
n=${4:-200}
settle=${5:-10s}
arms=${6:-"off auto free"}
http=${WISP_BENCH_HTTP:-127.0.0.1:18790}
udp=${WISP_BENCH_UDP:-18790}
media=testdata/media
mkdir -p "$out"
if [ -z "$bin" ]; then
	go build -o "$out/wisp" ./cmd/wisp
	bin="$out/wisp"
fi
go build -o "$out/wisp-load" ./cmd/wisp-load
order=$arms
for r in $(seq 1 "$rounds"); do
	for arm in $order; do
		case $arm in
		off) auto=false pin="-pin h" ;;
		auto) auto=true pin="-pin h" ;;
		free) auto=true pin="" ;;
		*) echo "unknown arm $arm" >&2; exit 2 ;;
		esac
		name="$arm-n$n-$r"
		taskset -c 0 "$bin" -http "$http" -udp-port "$udp" -ice-host 127.0.0.1 -ice-tcp=false -rate-limit 0 \
			-max-negotiating 0 -max-sessions 0 -metrics off -log-level warn -auto-layers="$auto" >"$out/$name.log" 2>&1 &
		pid=$!
		sleep 1
		cat /proc/loadavg >"$out/$name.load"
		taskset -c 1 "$out/wisp-load" view -whip "http://$http/whip/bench" \
			-simulcast "l=$media/h264-180p.h264,m=$media/h264-360p.h264,h=$media/h264-720p.h264" \
			-audio $media/opus.ogg -data data -whep "http://$http/whep/bench" -api "http://$http/api/streams" \
			-n "$n" -ramp 20 -settle "$settle" -duration 20s -count -twcc $pin -pid "$pid" >"$out/$name.json" || true
		cat /proc/loadavg >>"$out/$name.load"
		kill "$pid"
		wait "$pid" 2>/dev/null || true
		echo "$name done ($(head -c 14 "$out/$name.load"))"
	done
	order="${order#* } ${order%% *}" # rotate: a b c, b c a, c a b
done
echo "results in $out"
