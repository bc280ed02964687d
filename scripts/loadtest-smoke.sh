#!/usr/bin/env bash
# Load-test smoke run: builds `layer4` and `layer4-loadtest`, then runs every scenario
# small (fanout closed and open loop with two worker processes, connect, chat with
# reconnects, soak) twice:
#   1. against `layer4 dev` (one process; fanout also beside the write-loop ceiling);
#   2. when REDIS_URL is set (CI exports it), against a cluster: one `layer4 api` and two
#      `layer4 gateway` processes sharing a SQLite file and Redis (a prefix of its own),
#      members spread over both gateways (`LT_GATEWAY=a,b`), chat reconnects moving
#      from one gateway to the other.
# Servers on a temporary data directory and random unusual ports (42000-49999), bench
# limits raised. Any failed check, non-zero exit, unparsable JSON or gateway of the list
# that identified no connection fails the script, so the harness cannot rot. About a
# minute per leg after the build. Usage: scripts/loadtest-smoke.sh [--release]
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

work=$(mktemp -d /tmp/l4-lt-smoke.XXXXXX)
pids=()
redis_prefix=""
stop_servers() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pids=()
}
cleanup() {
  stop_servers
  if [[ -n "$redis_prefix" ]] && command -v redis-cli >/dev/null 2>&1; then
    # Leave nothing behind in a shared Redis (replay sets and presence under our prefix).
    redis-cli -u "$REDIS_URL" --scan --pattern "${redis_prefix}*" 2>/dev/null \
      | xargs -r -n 100 redis-cli -u "$REDIS_URL" del >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

limits=(--max-connections-per-ip 10000 --max-sessions-per-user 64 --messages-per-window 1000000
  --frames-per-window 1000000 --auth-rate-per-min 100000 --user-rate-per-sec 100000)

# Waits (up to 15 s) until process $1 answers `curl -sf $2`; fails early if it exits.
wait_http() {
  local pid=$1 url=$2
  for _ in $(seq 1 150); do
    kill -0 "$pid" 2>/dev/null || return 1
    curl -sf -o /dev/null "$url" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# Waits (up to 15 s) until 127.0.0.1:$2 accepts TCP while process $1 lives.
wait_tcp() {
  local pid=$1 port=$2
  for _ in $(seq 1 150); do
    kill -0 "$pid" 2>/dev/null || return 1
    (: <"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# A random base port in 42000-49989 whose next $1 ports are free right now (other load
# tests on the machine may hold thousands of ephemeral ports in that range).
free_base() {
  local n=$1 base
  for _ in $(seq 1 50); do
    base=$((42000 + RANDOM % 7990))
    if python3 -c '
import socket, sys
base, n = int(sys.argv[1]), int(sys.argv[2])
held = []
for port in range(base, base + n):
    s = socket.socket()
    s.bind(("127.0.0.1", port))
    held.append(s)
' "$base" "$n" 2>/dev/null; then
      echo "$base"
      return 0
    fi
  done
  return 1
}

# `layer4 dev` on random ports; retries if something else holds them. SQLite in the
# temporary folder whatever DATABASE_URL says (CI exports a PostgreSQL one for the tests).
start_dev() {
  local attempt pid
  for attempt in 1 2 3 4 5 6 7 8; do
    api_port=$(free_base 2) || return 1
    ws_port=$((api_port + 1))
    DATABASE_URL="" "$bin/layer4" dev --data-dir "$work/dev" --api-port "$api_port" \
      --ws-port "$ws_port" --shards 2 "${limits[@]}" >"$work/dev.log" 2>&1 &
    pid=$!
    pids=("$pid")
    if wait_http "$pid" "http://127.0.0.1:$api_port/healthz"; then
      server_pids=("$pid")
      gateways="127.0.0.1:$ws_port"
      metrics="http://127.0.0.1:$api_port/metrics"
      logs=("$work/dev.log")
      return 0
    fi
    echo "layer4 dev did not start on $api_port/$ws_port (attempt $attempt):"; head -n 3 "$work/dev.log"
    stop_servers
  done
  return 1
}

# One `layer4 api` and two `layer4 gateway` (cluster mode: shared SQLite file, Redis,
# distinct WORKER_IDs). The API migrates the database before the gateways start (three
# processes migrating one SQLite file at once can outwait its busy timeout).
start_cluster() {
  local attempt base api g1 g2 ok i
  redis_prefix="l4ltsmoke:$$:$RANDOM:"
  for attempt in 1 2 3 4 5 6 7 8; do
    base=$(free_base 5) || return 1
    api_port=$base
    local run="$work/cluster-$attempt"
    mkdir -p "$run"
    local env_common=(JWT_SECRET=loadtest-smoke-secret-loadtest-smoke-secret
      DATABASE_URL="sqlite://$run/cluster.db" REDIS_URL="$REDIS_URL" REDIS_PREFIX="$redis_prefix"
      BIND=127.0.0.1 RUST_LOG=warn)
    env "${env_common[@]}" WORKER_ID=1 DATA_DIR="$run/api" "$bin/layer4" api \
      --api-port "$api_port" "${limits[@]}" >"$run/api.log" 2>&1 &
    api=$!
    pids=("$api")
    logs=("$run/api.log")
    if ! wait_http "$api" "http://127.0.0.1:$api_port/readyz"; then
      echo "layer4 api did not start on $api_port (attempt $attempt):"; head -n 3 "$run/api.log"
      stop_servers
      continue
    fi
    ok=1
    for i in 1 2; do
      local ws=$((base + i)) mp=$((base + 2 + i))
      env "${env_common[@]}" WORKER_ID=$((1 + i)) DATA_DIR="$run/g$i" "$bin/layer4" gateway \
        --ws-port "$ws" --metrics-port "$mp" --shards 1 "${limits[@]}" >"$run/g$i.log" 2>&1 &
      pids+=($!)
      logs+=("$run/g$i.log")
    done
    g1=${pids[1]} g2=${pids[2]}
    for i in 1 2; do
      # Metrics answer once the process is up; the WebSocket port must then accept, and
      # the process must still live (it exits if another process holds the port).
      wait_http "${pids[$i]}" "http://127.0.0.1:$((base + 2 + i))/metrics" \
        && wait_tcp "${pids[$i]}" $((base + i)) || ok=0
    done
    sleep 0.3
    kill -0 "$g1" 2>/dev/null && kill -0 "$g2" 2>/dev/null || ok=0
    if [[ $ok == 1 ]]; then
      server_pids=("$api" "$g1" "$g2")
      gateways="127.0.0.1:$((base + 1)),127.0.0.1:$((base + 2))"
      metrics="http://127.0.0.1:$((base + 3))/metrics,http://127.0.0.1:$((base + 4))/metrics"
      return 0
    fi
    echo "cluster did not start at $base (attempt $attempt):"; head -n 3 "$run"/g*.log
    stop_servers
  done
  return 1
}

# Runs one scenario; fails the script on a non-zero exit, a failed check, a connection
# not identified, or a gateway of the list that identified none.
lt() {
  local name=$1; shift
  local started=$SECONDS out="$work/$leg-$name"
  local pid_args=()
  for pid in "${server_pids[@]}"; do pid_args+=(--server-pid "$pid"); done
  if ! "$bin/layer4-loadtest" "$@" "${pid_args[@]}" --drain-secs 15 --json >"$out.json" 2>"$out.err"; then
    echo "loadtest smoke ($leg): $name FAILED"; cat "$out.err"
    for log in "${logs[@]}"; do echo "--- $log"; tail -n 20 "$log"; done
    exit 1
  fi
  python3 - "$out.json" "$name" "$LT_GATEWAY" <<'EOF' || { echo "loadtest smoke ($leg): $name: bad JSON or failed checks"; cat "$out.err"; exit 1; }
import json, sys
path, name, gateways = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
f = json.load(open(path))
assert f["failures"]["count"] == 0, f["failures"]
assert f["identified"] == f["conns"], "not all identified"
ready = {g: f["counts"].get("READY from gateway " + g, 0) for g in gateways}
assert all(ready.values()), "a gateway identified no connection: %s" % ready
if name == "fanout-open":
    # Run with --arrival-stamps: every delivery has a kernel receive stamp, and reaching
    # the socket comes before being read.
    assert f["arrival"]["count"] == f["latency"]["count"] > 0, (f["arrival"], f["latency"])
    assert f["arrival"]["p99_ms"] <= f["latency"]["p99_ms"], (f["arrival"], f["latency"])
spread = ", ".join("%d READY from %s" % (n, g) for g, n in ready.items())
print("  %-14s ok: %d conns, %d deliveries, p99 %.1f ms; %s" % (name, f["conns"], f["deliveries_total"], f["latency"]["p99_ms"], spread))
EOF
  echo "  ($((SECONDS - started)) s)"
}

scenarios() {
  "$bin/layer4-loadtest" provision --users 40 >/dev/null
  lt fanout-closed fanout --members 20 --senders 4 --window 2 --duration 2
  lt fanout-open fanout --members 20 --senders 4 --rate 40 --duration 2 --procs 2 \
    --arrival-stamps "$@"
  lt connect connect --conns 60 --conns-per-user 2 --idle-secs 1
  lt chat chat --users 30 --channels 5 --dms 5 --rate 40 --reconnect-every-secs 2 --duration 3
  lt soak soak --members 20 --senders 2 --rate 10 --duration 6 --sample-secs 1 \
    --warmup-secs 1 --max-growth-pct 100000 --metrics-url "$metrics"
}

leg=dev
start_dev || { echo "loadtest smoke: could not start layer4 dev"; exit 1; }
export LT_API="http://127.0.0.1:$api_port" LT_GATEWAY="$gateways" LT_FILE="$work/dev-users.json"
echo "loadtest smoke against layer4 dev on :$api_port/:$ws_port"
scenarios --ceiling
stop_servers

if [[ -z "${REDIS_URL:-}" ]]; then
  echo "loadtest smoke against a cluster: skipped: REDIS_URL unset (cluster mode needs Redis)"
else
  leg=cluster
  start_cluster || { echo "loadtest smoke: could not start the cluster"; exit 1; }
  export LT_API="http://127.0.0.1:$api_port" LT_GATEWAY="$gateways" LT_FILE="$work/cluster-users.json"
  echo "loadtest smoke against a cluster: api :$api_port, gateways $gateways, Redis prefix $redis_prefix"
  scenarios
  stop_servers
fi
echo "loadtest smoke: all scenarios passed"
