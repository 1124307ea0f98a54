#!/usr/bin/env bash
# Runs the official MCP conformance suite (@modelcontextprotocol/conformance, spec
# 2025-11-25, every scenario) against `codex-async serve --http` on loopback.
#
# Scenarios that call the suite's own fixture tools, resources and prompts (test_*,
# test://…) or capabilities codex-async does not offer (logging, prompts) are listed in
# tests/conformance/expected-failures.yaml; every other scenario must pass. The suite
# needs node 22: npx fetches it (`-p node@22`) when the machine has an older one.
# Without the npm registry the run is skipped, loudly.
#
# Usage: scripts/conformance.sh [path/to/codex-async]   (default: target/debug/codex-async)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/debug/codex-async}
suite=@modelcontextprotocol/conformance@0.1.16

if ! command -v npx >/dev/null; then
  echo "!!! conformance SKIPPED: npx is not installed (install node and npm to run it)" >&2
  exit 0
fi
if ! timeout 120 npx -y -p node@22 -p "$suite" -- node --version >/dev/null 2>&1; then
  echo "!!! conformance SKIPPED: could not fetch node 22 and $suite from the npm registry" >&2
  exit 0
fi

work=$(mktemp -d)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# The suite cannot send an Authorization header: no token, on loopback only.
CODEX_ASYNC_HOME="$work/home" CODEX_BIN=/bin/true "$bin" serve --http 127.0.0.1:0 --no-auth 2>"$work/server.err" &
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

echo "conformance: $suite against $url"
npx -y -p node@22 -p "$suite" -- conformance server --url "$url" --suite all --spec-version 2025-11-25 \
  --expected-failures tests/conformance/expected-failures.yaml -o "$work/results"
