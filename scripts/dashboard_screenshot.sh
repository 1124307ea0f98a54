#!/usr/bin/env bash
# Captures assets/dashboard.svg from a real run of `codex-async --demo` in tmux.
# Usage: scripts/dashboard_screenshot.sh [path/to/codex-async]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=$(realpath "${1:-${CARGO_TARGET_DIR:-$here/target}/debug/codex-async}")
socket="codex-async-shot-$$"
trap 'tmux -L "$socket" kill-server 2>/dev/null || true' EXIT
# Run from a neutral project folder under a temporary home, so the screen shows ~/src/my-app.
fake_home=$(mktemp -d)
trap 'tmux -L "$socket" kill-server 2>/dev/null || true; rm -rf "$fake_home"' EXIT
mkdir -p "$fake_home/src/my-app"
cd "$fake_home/src/my-app"
tmux -L "$socket" -f /dev/null new-session -d -s shot -x 118 -y 30 "HOME=$fake_home TERM=xterm-256color $bin --demo --port 8765"
# Wait until one demo job has succeeded and one has failed (at most a minute).
for _ in $(seq 1 600); do
  screen=$(tmux -L "$socket" capture-pane -p -t shot)
  if grep -q "✓" <<<"$screen" && grep -q "✗" <<<"$screen"; then break; fi
  sleep 0.1
done
tmux -L "$socket" send-keys -t shot g j
sleep 3
tmux -L "$socket" capture-pane -e -p -t shot > /tmp/dashboard-shot.ansi
python3 "$here/scripts/dashboard_ansi_to_svg.py" < /tmp/dashboard-shot.ansi > "$here/assets/dashboard.svg"
tmux -L "$socket" send-keys -t shot q
sleep 3 # the demo stops its jobs and removes its folder
echo "wrote assets/dashboard.svg"
