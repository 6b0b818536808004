#!/usr/bin/env bash
# faststart-ab.sh BINDIR LABEL: one interop fast-start run with BINDIR/wisp, BINDIR/wisp-load and
# BINDIR/gstub (built as interop/run.sh builds them), in the sampled namespace above; prints one
# line: load average, result, first decoded frame, Chromium's framesDropped / nackCount /
# packetsLost at that point, the largest backlog in Chromium's media socket (Recv-Q bytes) and
# any socket drops. WISP_BATCH_EGRESS passes through to wisp. Artefacts in /tmp/faststart-ab/LABEL.
set -uo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
bin=$1 label=$2 out=/tmp/faststart-ab/$2
rm -rf "$out" && mkdir -p "$out"
export WISP_BIN=$bin/wisp WISP_LOAD_BIN=$bin/wisp-load WISP_GUPNP_STUB_DIR=$bin/gstub WISP_ARTIFACTS=$out
export CHROMIUM="${CHROMIUM:-$(command -v chromium)}"
load=$(cut -d' ' -f1 /proc/loadavg)
timeout -k 10 90 unshare --net --pid --fork --kill-child -- "$root/docs/bench/egress-ab/faststart-netns.sh" \
  node "$root/interop/cases/fast-start.mjs" >"$out/stdout.txt" 2>&1
rc=$?
c=$out/fast-start
first=$(grep -a 'first decoded frame' "$c/case.log" | head -1)
ff=$(echo "$first" | grep -o 'by join + [0-9]* ms' | grep -o '[0-9]*')
pick() { echo "$first" | grep -o "\"$1\":[0-9]*" | cut -d: -f2; }
recvq=$(awk '/chromium/ && /127.0.0.1/ {print $2}' "$c/ss.txt" | sort -n | tail -1)
drops=$(grep -ao 'd[1-9][0-9]*)' "$c/ss.txt" | tr -d 'd)' | sort -n | tail -1)
echo "$label batch=${WISP_BATCH_EGRESS:-default} load=$load rc=$rc first=${ff:-none}ms framesDropped=$(pick framesDropped) nack=$(pick nackCount) lost=$(pick packetsLost) chromiumRecvQmax=${recvq:-?} sockdrops=${drops:-0} $(grep -ao 'FAIL fast-start[^:]*: .\{0,50\}' "$out/stdout.txt" | head -1)"
