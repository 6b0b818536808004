#!/bin/sh
# Issue 13's cluster benchmark (docs/benchmarks.md "Cluster: what a pull costs, edge join times,
# edge CPU per GB"), all parts in one run on 127.0.0.1:
#   one redis-server (core 1), two wisp nodes on core 0: A (the owner: the publisher is on it) and
#   B (an edge: its viewers are served by a pull from A); one wisp-load publisher on A (core 1,
#   testdata/media/h264-720p.h264 + opus.ogg + a data message every 100 ms, PLI-deaf) for the
#   whole run; the measuring wisp-load processes on core 1.
#   a) what one pull costs the owner: A's CPU and RSS over a window with 0 viewers, with 1 local
#      viewer on A, with 1 viewer on B (A then serves B's pull and no viewer of its own), ROUNDS
#      times, the order of the last two alternating;
#   b) join times on B, from the start of the WHEP POST to the first complete keyframe, 20 tries
#      each, one viewer at a time: the first viewer (B starts the pull: B runs with
#      -cluster-pull-idle 1s and each try waits until A lists the stream with 0 viewers, i.e. no
#      pull, and B lists it without layers of its own, i.e. no keyframe cache), later viewers (an anchor viewer on B keeps the pull up), and for reference a viewer
#      on A itself;
#   c) CPU per GB at N viewers: N viewers on A (a node serving its own publisher, as a single
#      node does) against N viewers on B (edge; A serves one pull), alternately, ROUNDS times.
# The load average (/proc/loadavg) and the kernel's UDP receive-buffer drops (/proc/net/snmp) are
# written beside every JSON result (*.load), before and after.
#
# Needs redis-server, redis-cli, curl, jq and taskset.
# Usage: docs/bench/cluster.sh [wisp-binary] [out-dir] [rounds] [N] [parts]
#   parts: any of a b c (default "a b c"). Builds wisp and wisp-load when no binary is given.
# Ports: HTTP 127.0.0.1:18780 (A), :18781 (B), UDP 18780 (A), 18781 (B), redis 127.0.0.1:18799.
set -eu
cd "$(dirname "$0")/../.."
bin=${1:-}
out=${2:-/tmp/wisp-cluster13}
rounds=${3:-3}
n=${4:-200}
parts=${5:-"a b c"}
mkdir -p "$out"
if [ -z "$bin" ]; then
	go build -o "$out/wisp" ./cmd/wisp
	bin="$out/wisp"
fi
go build -o "$out/wisp-load" ./cmd/wisp-load
load="$out/wisp-load"
a=127.0.0.1:18780
b=127.0.0.1:18781
redis=127.0.0.1:18799
secret=bench-cluster-secret-0123456789
media=testdata/media

pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	for p in $pids; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT INT TERM

taskset -c 1 redis-server --bind 127.0.0.1 --port 18799 --save '' --appendonly no >"$out/redis.log" 2>&1 &
pids="$pids $!"
i=0
until redis-cli -p 18799 ping >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 50 ] || { echo "redis-server did not start" >&2; exit 1; }
	sleep 0.1
done

node() { # node ID HOST:PORT UDP EXTRA...
	id=$1 http=$2 udp=$3
	shift 3
	taskset -c 0 "$bin" -http "$http" -udp-port "$udp" -ice-host 127.0.0.1 -ice-tcp=false -rate-limit 0 \
		-max-negotiating 0 -max-sessions 0 -log-level warn -metrics off \
		-redis "redis://$redis/0" -node-url "http://$http" -node-id "$id" -cluster-secret "$secret" "$@" \
		>"$out/node-$id.log" 2>&1 &
}
node a "$a" 18780
apid=$!
pids="$pids $apid"
node b "$b" 18781 -cluster-pull-idle 1s
bpid=$!
pids="$pids $bpid"
for h in "$a" "$b"; do
	i=0
	until curl -sf "http://$h/healthz" >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -lt 100 ] || { echo "wisp on $h did not start" >&2; exit 1; }
		sleep 0.1
	done
done

taskset -c 1 "$load" publish -whip "http://$a/whip/bench" -video $media/h264-720p.h264 -audio $media/opus.ogg \
	-data data >"$out/publisher.json" 2>"$out/publisher.log" &
pids="$pids $!"
i=0
until curl -sf "http://$a/api/streams" | jq -e '.streams[]? | select(.name == "bench" and (.video // "") != "")' >/dev/null; do
	i=$((i + 1))
	[ $i -lt 100 ] || { echo "the publisher did not go live on A" >&2; exit 1; }
	sleep 0.1
done
sleep 3 # a GOP in A's cache

udperr() { # the kernel's count of UDP datagrams dropped for a full socket buffer (all sockets)
	awk '/^Udp:/ { n++ } /^Udp:/ && n == 2 { print "udp RcvbufErrors", $6 }' /proc/net/snmp
}
run() { # run NAME wisp-load ARGS...: JSON to NAME.json; the load average and the UDP receive
	# buffer drops before and after to NAME.load
	name=$1
	shift
	{ cat /proc/loadavg; udperr; } >"$out/$name.load"
	taskset -c 1 "$load" "$@" >"$out/$name.json"
	{ cat /proc/loadavg; udperr; } >>"$out/$name.load"
	echo "$name done ($(head -c 14 "$out/$name.load"))"
}
noviewer() { # wait until A lists the stream with no viewer (no pull from B either)
	i=0
	until curl -sf "http://$a/api/streams" | jq -e '.streams[]? | select(.name == "bench" and .viewers == 0)' >/dev/null; do
		i=$((i + 1))
		[ $i -lt 300 ] || { echo "A still has viewers" >&2; exit 1; }
		sleep 0.1
	done
}

one="-n 1 -ramp 1 -duration 30s -settle 2s -count -data data"
for part in $parts; do
	case $part in
	a)
		for r in $(seq 1 "$rounds"); do
			noviewer
			run "a-none-$r" view -whep "http://$a/whep/bench" -n 0 -duration 30s -settle 0s -pid "$apid"
			if [ $((r % 2)) -eq 1 ]; then order="local pull"; else order="pull local"; fi
			for kind in $order; do
				noviewer
				if [ "$kind" = local ]; then url="http://$a/whep/bench"; else url="http://$b/whep/bench"; fi
				run "a-$kind-$r" view -whep "$url" $one -pid "$apid"
			done
		done
		;;
	b)
		noviewer
		run b-first joins -whep "http://$b/whep/bench" -tries 20 -data data -cold-api "http://$a/api/streams" \
			-cold-edge-api "http://$b/api/streams"
		run b-later joins -whep "http://$b/whep/bench" -tries 20 -data data -anchor
		noviewer
		run b-owner joins -whep "http://$a/whep/bench" -tries 20 -data data
		;;
	c)
		for r in $(seq 1 "$rounds"); do
			if [ $((r % 2)) -eq 1 ]; then order="single edge"; else order="edge single"; fi
			for kind in $order; do
				noviewer
				if [ "$kind" = single ]; then url="http://$a/whep/bench" pid=$apid; else url="http://$b/whep/bench" pid=$bpid; fi
				run "c-$kind-n$n-$r" view -whep "$url" -n "$n" -ramp 20 -duration 20s -count -data data -pid "$pid"
			done
		done
		;;
	*)
		echo "unknown part $part" >&2
		exit 2
		;;
	esac
done
echo "results in $out"
