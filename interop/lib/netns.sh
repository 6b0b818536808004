#!/usr/bin/env bash
# netns.sh CMD...: run CMD in a private network namespace where every ICE candidate is 127.0.0.1.
#
# Chromium and libnice never gather candidates on a loopback interface, and libnice pins each
# socket to its interface. So, inside a fresh namespace (made by the caller with unshare --net),
# bring lo up and add a veth pair whose first end also carries 127.0.0.1/32: clients then gather
# 127.0.0.1 as a host candidate on a non-loopback interface, and nothing leaves the namespace.
set -euo pipefail
# Refuse to touch a namespace that has more than lo: this is meant for a fresh one only.
if [[ "$(ip -o link show | wc -l)" != 1 ]]; then
  echo "netns.sh: not in a fresh network namespace (run it under unshare --net)" >&2
  exit 2
fi
ip link set lo up
ip link add wisp0 type veth peer name wisp1
ip addr add 127.0.0.1/32 dev wisp0
ip link set wisp0 up
ip link set wisp1 up
exec "$@"
