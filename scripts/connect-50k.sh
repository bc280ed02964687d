#!/usr/bin/env bash
# Idle connections beyond one process's open-file limit: N gateway processes sharing one
# port (SO_REUSEPORT: the kernel spreads connections over their listeners) as nodes of
# one cluster (Redis bus, shared database), and the connect scenario from several client
# processes and 127.0.0.x source addresses.
#
#   scripts/connect-50k.sh [CONNS] [GATEWAYS] [CLIENT_PROCS] [IDLE_SECS]
#
# Needs release binaries (cargo build --release -p layer4 -p loadtest) and Redis at
# REDIS_URL (default redis://127.0.0.1:6379). IO_DRIVER picks the gateways' driver.
# Afterwards the gateways, their clients gone, are sent SIGTERM and must exit within
# 30 s (a drain after losing every connection at once); the script fails otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
CONNS=${1:-50000}
GATEWAYS=${2:-3}
PROCS=${3:-3}
IDLE=${4:-30}
PER_USER=25
USERS=$(((CONNS + PER_USER - 1) / PER_USER))
BIN=${CARGO_TARGET_DIR:-target}/release
WORK=$(mktemp -d /tmp/l4-50k.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT

limits=(--max-connections-per-ip 20000 --max-sessions-per-user 64 --auth-rate-per-min 1000000
  --user-rate-per-sec 1000000)
common_env=(JWT_SECRET=loadtest-secret-loadtest-secret-loadtest DATABASE_URL="sqlite://$WORK/db.sqlite"
  REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}" REDIS_PREFIX="l4c50k:$$:" BIND=127.0.0.1 RUST_LOG=warn IO_DRIVER="${IO_DRIVER:-auto}")

env "${common_env[@]}" WORKER_ID=1 DATA_DIR="$WORK/api" "$BIN/layer4" api --api-port 3400 "${limits[@]}" &
pids=()
for i in $(seq 1 "$GATEWAYS"); do
  env "${common_env[@]}" WORKER_ID=$((i + 1)) DATA_DIR="$WORK/g$i" \
    "$BIN/layer4" gateway --ws-port 3401 --shards 1 "${limits[@]}" &
  pids+=(--server-pid $!)
done
for _ in $(seq 1 100); do
  curl -sf http://127.0.0.1:3400/readyz >/dev/null && break
  sleep 0.2
done
sleep 1

export LT_API=http://127.0.0.1:3400 LT_GATEWAY=127.0.0.1:3401 LT_FILE="$WORK/users.json"
"$BIN/layer4-loadtest" provision --users "$USERS" --group 2
"$BIN/layer4-loadtest" connect --conns "$CONNS" --conns-per-user "$PER_USER" --procs "$PROCS" \
  --idle-secs "$IDLE" "${pids[@]}" &
LT=$!
# Halfway through the idle phase: how the kernel spread the connections.
sleep $((IDLE / 2 + 15))
for pid in "${pids[@]}"; do
  [[ $pid == --server-pid ]] && continue
  printf 'gateway %s while idle: %s open files, RSS %s KiB\n' "$pid" \
    "$(ls /proc/"$pid"/fd | wc -l)" "$(awk '/VmRSS/ {print $2}' /proc/"$pid"/status)"
done
wait "$LT"

# The clients are gone: every gateway must drain and exit on SIGTERM.
status=0
for pid in "${pids[@]}"; do
  [[ $pid == --server-pid ]] && continue
  kill -TERM "$pid"
  started=$SECONDS
  while kill -0 "$pid" 2>/dev/null && ((SECONDS - started < 30)); do sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then
    echo "gateway $pid did not exit within 30 s of SIGTERM (CPU: $(awk '{print $14 + $15}' /proc/"$pid"/stat) ticks)"
    status=1
  else
    echo "gateway $pid exited $((SECONDS - started)) s after SIGTERM"
  fi
done
exit "$status"
