#!/usr/bin/env bash
# faststart-netns.sh CMD...: interop/lib/netns.sh's namespace (lo, and 127.0.0.1 on a veth), plus,
# for the batching A/B of docs/benchmarks.md, every UDP socket's queues and drops sampled every
# 50 ms (ss -uampn: Recv-Q, skmem d = drops) into $WISP_ARTIFACTS/fast-start/ss.txt and the
# namespace's UDP counters (nstat) after the case. Run it as run.sh runs netns.sh:
#   unshare --net --pid --fork --kill-child -- docs/bench/egress-ab/faststart-netns.sh node interop/cases/fast-start.mjs
set -uo pipefail
ip link set lo up
ip link add wisp0 type veth peer name wisp1
ip addr add 127.0.0.1/32 dev wisp0
ip link set wisp0 up
ip link set wisp1 up
mkdir -p "$WISP_ARTIFACTS/fast-start"
( while :; do echo "T $(date +%s.%N)"; ss -uampnH 2>/dev/null; sleep 0.05; done ) >"$WISP_ARTIFACTS/fast-start/ss.txt" &
sampler=$!
"$@"
rc=$?
kill "$sampler"
nstat -az 2>/dev/null | grep -E "Udp(InDatagrams|RcvbufErrors|InErrors|OutDatagrams)" >"$WISP_ARTIFACTS/fast-start/nstat.txt"
exit $rc
