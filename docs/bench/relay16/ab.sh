#!/bin/sh
# BenchmarkRelayMessage (N=50, batch=true, 2000 messages), binaries alternately, ROUNDS rounds.
# Each binary is a `go test -c ./cmd/wisp` of one tree (with this tree's relay_bench_test.go).
# Prints per run: load average, whole-process CPU-µs per message per viewer, wisp's share of the
# loop's CPU profile (side=wisp, seconds of the total), and how the records left the socket.
# usage: docs/bench/relay16/ab.sh ROUNDS OUTDIR name=/path/to/wisp.test ...
rounds=$1; out=$2; shift 2
mkdir -p "$out"
cd "$(dirname "$0")/../../../cmd/wisp" || exit 1
for r in $(seq 1 "$rounds"); do
  for nb in "$@"; do
    name=${nb%%=*}; bin=${nb#*=}
    la=$(cut -d' ' -f1 /proc/loadavg)
    res=$(WISP_RELAY_CPUPROFILE="$out/$name-$r.prof" "$bin" -test.run '^$' \
      -test.bench 'RelayMessage/viewers=50/batch=true' -test.benchtime 2000x 2>&1 | grep -E '^Benchmark|FAIL')
    wisp=$(go tool pprof -tags "$out/$name-$r.prof.n50.batchtrue" 2>/dev/null | awk '/Total/ {print $3, "of", $5}')
    echo "$(date -u +%H:%M:%S) round=$r bin=$name load=$la wisp=$wisp | $(echo "$res" | cut -f3-)"
  done
done
