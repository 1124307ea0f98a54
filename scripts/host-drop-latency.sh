#!/bin/bash
# How long from a host's server dying (SIGKILL, as a dropped ssh ends) until the
# dashboard's hosts view says the host is unreachable: the release binary, one host
# behind a command, N kills (default 10), the screen read every 5 ms. Needs tmux.
# Usage: cargo build --release && scripts/host-drop-latency.sh
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$ROOT/target/release/codex-async}
FA=$ROOT/tests/fixtures/fake-agent
N=${N:-10}
D=$(mktemp -d); mkdir -p $D/local $D/box
cat > $D/local/config.toml <<CFG
[hosts.box]
command = ["sh", "-c", "echo \$\$ > $D/pid; exec env CODEX_ASYNC_HOME=$D/box CODEX_BIN=$FA $BIN serve"]
CFG
CODEX_ASYNC_HOME=$D/box CODEX_BIN=$FA $BIN start --cwd $D -- "say:hi sleep:600" > $D/job
tmux kill-session -t drop 2>/dev/null
tmux new-session -d -s drop -x 140 -y 40 "env CODEX_ASYNC_HOME=$D/local CODEX_BIN=$FA $BIN --no-mcp"
until tmux capture-pane -t drop -p | grep -q "no jobs"; do sleep 0.05; done
tmux send-keys -t drop H
wait_for() { until tmux capture-pane -t drop -p | grep -q "$1"; do sleep 0.005; done; }
for i in $(seq 1 $N); do
  wait_for "box          connected ("
  sleep 1
  pid=$(cat $D/pid)
  t0=$(date +%s%N)
  kill -9 $pid
  wait_for "box          unreachable since"
  t1=$(date +%s%N)
  echo "kill $i: pid $pid at $t0: $(( (t1 - t0) / 1000 )) us"
done
tmux kill-session -t drop
CODEX_ASYNC_HOME=$D/box $BIN cancel "$(cat $D/job)" --grace 1s > /dev/null
rm -rf "$D"
