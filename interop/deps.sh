#!/usr/bin/env bash
# interop/deps.sh: installs the Debian packages the browser and GStreamer tests need, idempotently
# (dpkg-query first; apt-get update only when something is missing). Run by `make test` before the
# Go tests (cmd/wisp's browser test needs chromium; cluster/ starts its own redis-server) and by
# interop/run.sh.
set -euo pipefail
log() { printf 'deps: %s\n' "$*" >&2; }

packages=(
  chromium firefox-esr
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
  gstreamer1.0-plugins-ugly gstreamer1.0-libav gstreamer1.0-nice
  simple-whip-client
  python3 python3-gi gir1.2-gstreamer-1.0 gir1.2-gst-plugins-base-1.0 gir1.2-gst-plugins-bad-1.0
  iproute2 util-linux gcc pkg-config libglib2.0-dev nodejs npm
  redis-server
  openssl libnss3-tools
)
missing=()
for p in "${packages[@]}"; do
  if [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" != "install ok installed" ]]; then
    missing+=("$p")
  fi
done
# nodejs/npm may come from elsewhere than Debian (a newer Node on the machine): accept those.
if command -v node >/dev/null && command -v npm >/dev/null; then
  filtered=()
  for p in "${missing[@]}"; do [[ "$p" == nodejs || "$p" == npm ]] || filtered+=("$p"); done
  missing=("${filtered[@]}")
fi
if ((${#missing[@]})); then
  log "installing ${missing[*]}"
  sudo=()
  [[ $(id -u) -eq 0 ]] || sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

