#!/bin/sh
# Counts a running wisp's send syscalls from outside while wisp-load views it (docs/benchmarks.md,
# "Batched egress"). Usage: docs/bench/syscalls.sh strace|perf SERVER-BINARY OUT-PREFIX [N]
#   strace: strace -c -f -p PID for 10 s (every syscall; ptrace slows the server)
#   perf:   perf stat of the sendto/sendmsg/sendmmsg tracepoints for 10 s (no slowdown)
# wisp pinned to core 0, wisp-load to core 1; the count starts 12 s after the first viewer.
# Set WISP_BATCH_EGRESS=true to run wisp with batched egress.
set -eu
cd "$(dirname "$0")/../.."
mode=$1 bin=$2 out=$3 n=${4:-50}
http=${WISP_BENCH_HTTP:-127.0.0.1:18580}
udp=${WISP_BENCH_UDP:-18589}
go build -o "$out.wisp-load" ./cmd/wisp-load
taskset -c 0 "$bin" -http "$http" -udp-port "$udp" -ice-host 127.0.0.1 -ice-tcp=false -rate-limit 0 -max-negotiating 0 -max-sessions 0 -log-level warn >"$out.server.log" 2>&1 &
pid=$!
sleep 1
taskset -c 1 timeout 120 "$out.wisp-load" view -whip "http://$http/whip/bench" -video testdata/media/h264-720p.h264 -audio testdata/media/opus.ogg -data data \
	-whep "http://$http/whep/bench" -n "$n" -ramp 20 -duration 25s -count -pid "$pid" >"$out.json" &
lpid=$!
sleep 12
case $mode in
strace) timeout -s INT 10 strace -c -f -p "$pid" -o "$out.strace" || true ;;
perf) perf stat -e syscalls:sys_enter_sendto,syscalls:sys_enter_sendmsg,syscalls:sys_enter_sendmmsg -p "$pid" -o "$out.perf" -- sleep 10 || true ;;
*) echo "mode must be strace or perf" >&2 ;;
esac
wait "$lpid" || true
kill "$pid"
wait "$pid" 2>/dev/null || true
