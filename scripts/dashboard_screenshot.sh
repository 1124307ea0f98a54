#!/usr/bin/env bash
# Retakes the README's screenshot from a real run of `codex-async --demo` in tmux:
# - assets/dashboard.txt: the screen as text, with what changes from run to run masked
#   (ids, the MCP port, AGE and TIME, what the running job is doing); the test
#   `dashboard_tmux::screenshot` plays the demo again and fails when the screen no
#   longer matches it, so CI (`cargo test`) catches a stale screenshot;
# - assets/dashboard.svg: the same capture with its colours (the README's image),
#   rendered by scripts/dashboard_ansi_to_svg.py.
# Usage: scripts/dashboard_screenshot.sh   (needs tmux and python3; about a minute)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
ansi=$(mktemp)
trap 'rm -f "$ansi"' EXIT
CODEX_ASYNC_SCREENSHOT=write CODEX_ASYNC_SCREENSHOT_ANSI="$ansi" \
  cargo test --locked --test dashboard -- --exact dashboard_tmux::screenshot::the_committed_screenshot_is_what_the_demo_shows
python3 "$here/scripts/dashboard_ansi_to_svg.py" < "$ansi" > "$here/assets/dashboard.svg"
echo "wrote assets/dashboard.txt and assets/dashboard.svg"
