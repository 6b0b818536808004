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
# A fresh server each run, pinned to core 0; the publisher (`wisp-load publish -simulcast`) and the
# viewers (`wisp-load view`) in two processes on core 1, so that on a busy machine 200 viewers
# cannot starve the publisher (a publisher silent for a second makes its layers inactive).
# Needs curl, jq and taskset.
# The load average (/proc/loadavg) and the kernel's UDP receive-buffer drops (/proc/net/snmp) are
# written beside every JSON result (*.load), before and after.
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
udperr() { # the kernel's count of UDP datagrams dropped for a full socket buffer (all sockets)
	awk '/^Udp:/ { n++ } /^Udp:/ && n == 2 { print "udp RcvbufErrors", $6 }' /proc/net/snmp
}
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
		taskset -c 1 "$out/wisp-load" publish -whip "http://$http/whip/bench" \
			-simulcast "l=$media/h264-180p.h264,m=$media/h264-360p.h264,h=$media/h264-720p.h264" \
			-audio $media/opus.ogg -data data >/dev/null 2>"$out/$name.publisher.log" &
		pub=$!
		i=0 # every layer known before the viewers come (a viewer's estimation is chosen when it arrives)
		until curl -sf "http://$http/api/streams" | jq -e '.streams[]? | select(.name == "bench") | [.feeds[] | select(.kind == "video")] | length == 3' >/dev/null; do
			i=$((i + 1))
			[ $i -lt 150 ] || break
			sleep 0.1
		done
		sleep 3 # a GOP of every layer in the cache
		{ cat /proc/loadavg; udperr; } >"$out/$name.load"
		taskset -c 1 "$out/wisp-load" view -whep "http://$http/whep/bench" -api "http://$http/api/streams" -data data \
			-n "$n" -ramp 20 -settle "$settle" -duration 20s -count -twcc $pin -pid "$pid" >"$out/$name.json" || true
		{ cat /proc/loadavg; udperr; } >>"$out/$name.load"
		kill "$pub" "$pid"
		wait "$pub" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		echo "$name done ($(head -c 14 "$out/$name.load"))"
	done
	order="${order#* } ${order%% *}" # rotate: a b c, b c a, c a b
done
echo "results in $out"
