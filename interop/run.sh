#!/usr/bin/env bash
# interop/run.sh [CASE...]: wisp against real third-party clients (GStreamer simple-whip-client and
# webrtcbin, headless Chromium, Medooze whip-whep), judged by decoded media. Run by `make test`
# (target interop), so in CI too. See docs/interop.md.
#
#  1. installs the Debian packages it needs, idempotently (dpkg-query first; apt-get update only
#     when something is missing);
#  2. npm ci in interop/ from the committed package-lock.json (playwright-core, puppeteer-core,
#     whip-whep; no browser download: Debian's chromium and firefox-esr are used);
#  3. builds wisp, the load tool (cmd/wisp-load, a PLI-deaf file publisher) and the no-op
#     gupnp-igd library (gupnp-stub/) into a temporary folder;
#  4. runs each case (cases/*.mjs, or the names given) in its own network namespace
#     (lib/netns.sh) under its own time limit; a case stops every process it started by pid, and
#     the namespace's PID namespace ends whatever is left when the case's node process exits;
#  5. prints "interop: N passed, M failed" alone on a line and exits non-zero on any failure.
#
# Artefacts (logs, screenshots) go to test-artifacts/interop/<case>/.
# Environment: INTEROP_CASE_TIMEOUT (seconds per case, default 90; a case file may raise its own
# with a line "// interop-timeout: SECONDS"), INTEROP_VERBOSE=1.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
export PATH="/usr/local/go/bin:$PATH"

log() { printf 'interop: %s\n' "$*" >&2; }

# --- 1. Debian packages (interop/deps.sh; make test runs it before the Go tests too) -------------
"$here/deps.sh"

# --- 2. npm packages ---------------------------------------------------------------------------
if [[ ! -d "$here/node_modules/playwright-core" || ! -d "$here/node_modules/whip-whep" ||
      ! -d "$here/node_modules/puppeteer-core" ||
      "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]]; then
  log "npm ci"
  (cd "$here" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi

# --- 3. wisp, wisp-load and the gupnp-igd stub ---------------------------------------------------
work="$(mktemp -d /tmp/wisp-interop.XXXXXX)"
trap 'rm -rf "$work"' EXIT
(cd "$root" && go build -o "$work/wisp" ./cmd/wisp && go build -o "$work/wisp-load" ./cmd/wisp-load)
mkdir -p "$work/gstub"
# shellcheck disable=SC2046
gcc -shared -fPIC -O2 -Wall -o "$work/gstub/libgupnp-igd-1.0.so.4" -Wl,-soname,libgupnp-igd-1.0.so.4 \
  "$here/gupnp-stub/gupnp-igd-stub.c" $(pkg-config --cflags --libs gobject-2.0)

# --- 4. the cases --------------------------------------------------------------------------------
artifacts="$root/test-artifacts/interop"
rm -rf "$artifacts"
mkdir -p "$artifacts"
export WISP_BIN="$work/wisp" WISP_LOAD_BIN="$work/wisp-load" WISP_GUPNP_STUB_DIR="$work/gstub" WISP_ARTIFACTS="$artifacts"
export CHROMIUM="${CHROMIUM:-$(command -v chromium || true)}"
limit="${INTEROP_CASE_TIMEOUT:-90}"

cases=()
if (($#)); then
  for c in "$@"; do cases+=("$here/cases/${c%.mjs}.mjs"); done
else
  cases=("$here"/cases/*.mjs)
fi

passed=0 failed=0 started=$SECONDS
for c in "${cases[@]}"; do
  name="$(basename "$c" .mjs)"
  rc=0
  # A case may ask for more time with a line "// interop-timeout: SECONDS" (never less).
  case_limit="$limit"
  own="$(sed -n 's|^// interop-timeout: \([0-9][0-9]*\)$|\1|p' "$c" | head -1)"
  [[ -n "$own" && "$own" -gt "$limit" ]] && case_limit="$own"
  # unshare: a private network namespace (lib/netns.sh sets it up) and a PID namespace whose
  # processes the kernel kills when its first process ends, as a net under the case's own by-pid
  # cleanup. timeout: the case's time limit (TERM, then KILL 10 s later).
  timeout -k 10 "$case_limit" unshare --net --pid --fork --kill-child -- "$here/lib/netns.sh" node "$c" || rc=$?
  if ((rc == 0)); then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    ((rc == 124 || rc == 137)) && echo "FAIL $name: no result within ${case_limit}s (logs: $artifacts/$name)"
  fi
done
log "$((passed + failed)) cases in $((SECONDS - started)) s"
echo "interop: $passed passed, $failed failed"
((failed == 0))
