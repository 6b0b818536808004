#!/bin/sh
# Memory per stream (docs/benchmarks.md): a server with P publishers and no viewers. Each publisher
# is one `wisp-load publish` process sending testdata/media/h264-720p.h264 (H.264 720p30, about
# 2.85 Mbit/s, 2 s GOP) plus testdata/media/opus.ogg to its own stream. The server runs on core 0,
# the publishers on core 1, everything on 127.0.0.1.
#
# Usage: docs/bench/streams.sh KIND BIN OUT [P]
#   KIND: wisp (BIN is a wisp binary) or mediamtx (BIN is a MediaMTX binary; WHIP on :8889)
# Writes OUT/KIND-BIN-streams.json: RSS (VmRSS, kB) before the first publisher, then every 5 s
# for 30 s once all P are live, the per-stream figure (last sample − before) / P, and the server's
# CPU (% of a core) over those 30 s. With PPROF=host:port (wisp only) the server serves Go's
# profiles there and OUT/KIND-BIN-heap.txt gets the in-use heap by function at the end.
set -eu
cd "$(dirname "$0")/../.."
kind=$1
bin=$2
out=$3
p=${4:-20}
mkdir -p "$out"
go build -o "$out/wisp-load" ./cmd/wisp-load
tag=$(basename "$bin")
log="$out/$kind-$tag-server.log"
case $kind in
wisp)
	taskset -c 0 "$bin" -http 127.0.0.1:18080 -udp-port 18189 -ice-host 127.0.0.1 -ice-tcp=false \
		-rate-limit 0 -max-negotiating 0 -max-sessions 0 -metrics off -log-level warn ${PPROF:+-pprof "$PPROF"} >"$log" 2>&1 &
	url() { echo "http://127.0.0.1:18080/whip/s$1"; }
	;;
mediamtx)
	cfg="$out/mediamtx.yml"
	printf 'logLevel: warn\nrtsp: no\nrtmp: no\nhls: no\nsrt: no\napi: no\nwebrtc: yes\nwebrtcAddress: 127.0.0.1:8889\nwebrtcLocalUDPAddress: 127.0.0.1:18189\nwebrtcLocalTCPAddress: ""\nwebrtcIPsFromInterfaces: no\nwebrtcAdditionalHosts: [127.0.0.1]\npaths:\n  all_others:\n' >"$cfg"
	taskset -c 0 "$bin" "$cfg" >"$log" 2>&1 &
	url() { echo "http://127.0.0.1:8889/s$1/whip"; }
	;;
*)
	echo "KIND must be wisp or mediamtx" >&2
	exit 2
	;;
esac
pid=$!
rss() { awk '/^VmRSS/ {print $2}' "/proc/$pid/status"; }
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
sleep 2
before=$(rss)
pubs=""
i=1
while [ "$i" -le "$p" ]; do
	taskset -c 1 "$out/wisp-load" publish -whip "$(url "$i")" -video testdata/media/h264-720p.h264 \
		-audio testdata/media/opus.ogg -duration 50s >"$out/$kind-$tag-pub$i.log" 2>&1 &
	pubs="$pubs $!"
	i=$((i + 1))
	sleep 0.2
done
sleep 5
samples=""
t0=$(ticks)
for s in 1 2 3 4 5 6; do
	sleep 5
	samples="$samples${samples:+,}$(rss)"
done
cpu=$(awk -v a="$t0" -v b="$(ticks)" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.1f", (b - a) / hz / 30 * 100}')
last=$(rss)
if [ -n "${PPROF:-}" ] && [ "$kind" = wisp ]; then
	go tool pprof -sample_index=inuse_space -top "http://$PPROF/debug/pprof/heap" >"$out/$kind-$tag-heap.txt" 2>&1 || true
fi
for q in $pubs; do kill "$q" 2>/dev/null || true; done
for q in $pubs; do wait "$q" 2>/dev/null || true; done
kill "$pid"
wait "$pid" 2>/dev/null || true
per=$(awk -v a="$last" -v b="$before" -v n="$p" 'BEGIN {printf "%.2f", (a - b) / n / 1024}')
printf '{"kind":"%s","binary":"%s","publishers":%s,"rssBeforeKB":%s,"rssSamplesKB":[%s],"rssPerStreamMB":%s,"serverCPUPercent":%s,"at":"%s"}\n' \
	"$kind" "$tag" "$p" "$before" "$samples" "$per" "$cpu" "$(date -u +%FT%TZ)" | tee "$out/$kind-$tag-streams.json"
