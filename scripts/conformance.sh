#!/usr/bin/env bash
# Runs the official MCP conformance suite (@modelcontextprotocol/conformance) against
# `codex-async serve --http` on loopback, at both protocol generations:
#
#   1. 0.1.16, every scenario of spec 2025-11-25 (sessions, `initialize`);
#   2. 0.2.0-alpha.12, `--requirements 2026-07-28` (stateless requests, `server/discover`,
#      the Tasks extension and the pending SEPs: the extensions and pending scenarios run
#      and are reported as "not scored").
#
# Each run has its own expected-failures file in tests/conformance/ listing only the
# scenarios that call the suite's own fixture tools, resources and prompts (test_*,
# test://…) or, for 2025-11-25, capabilities codex-async does not offer; every other
# scenario must pass. The suite needs node 22: npx fetches it (`-p node@22`) when the
# machine has an older one. Without the npm registry the run is skipped, loudly.
#
# Usage: scripts/conformance.sh [path/to/codex-async]   (default: target/debug/codex-async)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/debug/codex-async}
suite_2025=@modelcontextprotocol/conformance@0.1.16
suite_2026=@modelcontextprotocol/conformance@0.2.0-alpha.12

if ! command -v npx >/dev/null; then
  echo "!!! conformance SKIPPED: npx is not installed (install node and npm to run it)" >&2
  exit 0
fi
for suite in "$suite_2025" "$suite_2026"; do
  if ! timeout 120 npx -y -p node@22 -p "$suite" -- node --version >/dev/null 2>&1; then
    echo "!!! conformance SKIPPED: could not fetch node 22 and $suite from the npm registry" >&2
    exit 0
  fi
done

work=$(mktemp -d)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# One finished job, so the resource scenarios (cache hints on resources/read) have a
# resource to read. The agent is /bin/true: it ends at once.
export CODEX_ASYNC_HOME="$work/home" CODEX_BIN=/bin/true
"$bin" start --cwd "$work" -- conformance >/dev/null

# The suite cannot send an Authorization header: no token, on loopback only.
"$bin" serve --http 127.0.0.1:0 --no-auth 2>"$work/server.err" &
server_pid=$!
url=
for _ in $(seq 100); do
  url=$(sed -n 's/^codex-async: serving MCP at //p' "$work/server.err")
  [ -n "$url" ] && break
  sleep 0.1
done
if [ -z "$url" ]; then
  echo "the server did not start:" >&2
  cat "$work/server.err" >&2
  exit 1
fi

status=0
echo "conformance: $suite_2025 (spec 2025-11-25) against $url"
npx -y -p node@22 -p "$suite_2025" -- conformance server --url "$url" --suite all --spec-version 2025-11-25 \
  --expected-failures tests/conformance/expected-failures.yaml -o "$work/results-2025" || status=1
echo "conformance: $suite_2026 (--requirements 2026-07-28) against $url"
npx -y -p node@22 -p "$suite_2026" -- conformance server --url "$url" --requirements 2026-07-28 \
  --expected-failures tests/conformance/expected-failures-2026-07-28.yaml -o "$work/results-2026" || status=1
[ "$status" -eq 0 ] && echo "conformance: both revisions as expected"
exit "$status"
