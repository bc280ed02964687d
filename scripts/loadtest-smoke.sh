#!/usr/bin/env bash
# Load-test smoke run: builds `layer4` and `layer4-loadtest`, starts `layer4 dev` on a
# temporary data directory and unusual random ports with the bench limits raised, and
# runs every scenario small (fanout closed and open loop with two worker processes and
# the ceiling, connect, chat with reconnects, soak). Any failed check, non-zero exit or
# unparsable JSON fails the script, so the harness cannot rot. Takes well under a
# minute after the build. Usage: scripts/loadtest-smoke.sh [--release]
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/layer4-target}"
profile=debug
build=(cargo build -p layer4 -p loadtest)
if [[ "${1:-}" == "--release" ]]; then
  profile=release
  build+=(--release)
fi
"${build[@]}"
bin="$CARGO_TARGET_DIR/$profile"

work=$(mktemp -d)
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# Random unusual ports; retry if something else holds them. SQLite in the temporary
# folder whatever DATABASE_URL says (CI exports a PostgreSQL one for the tests).
for attempt in 1 2 3 4 5; do
  api_port=$((41000 + RANDOM % 8000))
  ws_port=$((api_port + 1))
  DATABASE_URL="" "$bin/layer4" dev --data-dir "$work/data" --api-port "$api_port" --ws-port "$ws_port" --shards 2 \
    --max-connections-per-ip 10000 --max-sessions-per-user 64 --messages-per-window 1000000 \
    --frames-per-window 1000000 --auth-rate-per-min 100000 --user-rate-per-sec 100000 \
    >"$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 100); do
    if curl -sf "http://127.0.0.1:$api_port/healthz" >/dev/null 2>&1; then break; fi
    if ! kill -0 "$server_pid" 2>/dev/null; then break; fi
    sleep 0.1
  done
  if curl -sf "http://127.0.0.1:$api_port/healthz" >/dev/null 2>&1; then break; fi
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
  echo "server did not start on $api_port/$ws_port (attempt $attempt):"; tail -n 5 "$work/server.log"
done
[[ -n "$server_pid" ]] || { echo "loadtest smoke: could not start layer4 dev"; exit 1; }

export LT_API="http://127.0.0.1:$api_port" LT_GATEWAY="127.0.0.1:$ws_port" LT_FILE="$work/users.json"
lt() {
  local name=$1; shift
  local started=$SECONDS
  if ! "$bin/layer4-loadtest" "$@" --server-pid "$server_pid" --drain-secs 15 --json >"$work/$name.json" 2>"$work/$name.err"; then
    echo "loadtest smoke: $name FAILED"; cat "$work/$name.err"; tail -n 20 "$work/server.log"; exit 1
  fi
  python3 -c 'import json,sys; f=json.load(open(sys.argv[1])); assert f["failures"]["count"]==0, f["failures"]; assert f["identified"]==f["conns"], "not all identified"; print("  %-14s ok: %d conns, %d deliveries, p99 %.1f ms" % (sys.argv[2], f["conns"], f["deliveries_total"], f["latency"]["p99_ms"]))' "$work/$name.json" "$name" \
    || { echo "loadtest smoke: $name: bad JSON or failed checks"; cat "$work/$name.err"; exit 1; }
  echo "  ($((SECONDS - started)) s)"
}

echo "loadtest smoke against layer4 dev on :$api_port/:$ws_port"
"$bin/layer4-loadtest" provision --users 40 >/dev/null
lt fanout-closed fanout --members 20 --senders 4 --window 2 --duration 2
lt fanout-open fanout --members 20 --senders 4 --rate 40 --duration 2 --procs 2 --ceiling
lt connect connect --conns 60 --conns-per-user 2 --idle-secs 1
lt chat chat --users 30 --channels 5 --dms 5 --rate 40 --reconnect-every-secs 2 --duration 3
lt soak soak --members 20 --senders 2 --rate 10 --duration 4 --sample-secs 1 --max-growth-pct 100000
echo "loadtest smoke: all scenarios passed"
