#!/usr/bin/env bash
# Load tests against a two-gateway cluster (one `layer4 api`, two `layer4 gateway`,
# Redis, a shared database).
#
#   scripts/cluster-loadtest.sh [MEMBERS] [SENDERS] [DURATION]
#       the fanout scenario with members split over both gateways, beside the same run
#       with every member on one gateway of the same cluster;
#   scripts/cluster-loadtest.sh -- SCENARIO [ARGS...]
#       any scenario of layer4-loadtest (chat, soak, connect, ...) with LT_GATEWAY set to
#       both gateways, --server-pid for the three processes and Redis, and (soak)
#       LT_METRICS set to both gateways' /metrics.
#
# Needs release binaries (cargo build --release -p layer4 -p loadtest) and Redis at
# REDIS_URL (default redis://127.0.0.1:6379). DATABASE_URL picks the database (default:
# a shared SQLite file). Random ports in 42000-49999, a fresh data folder under /tmp and
# a Redis prefix of its own, so several runs can share the machine; LT_FILE (default:
# in that folder) keeps the provisioned users across runs only when set to a file that
# lives with a database that does too. Exits non-zero when a check fails.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${CARGO_TARGET_DIR:-target}/release
REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}
WORK=$(mktemp -d /tmp/l4-cluster.XXXXXX)
DB=${DATABASE_URL:-sqlite://$WORK/cluster.db}
PREFIX="l4lt:$$:$RANDOM:"
cleanup() {
  kill $(jobs -p) 2>/dev/null || true
  wait 2>/dev/null || true
  redis-cli -u "$REDIS_URL" --scan --pattern "${PREFIX}*" 2>/dev/null \
    | xargs -r -n 100 redis-cli -u "$REDIS_URL" del >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

BASE=$((42000 + RANDOM % 7990))
API=$BASE WS1=$((BASE + 1)) WS2=$((BASE + 2)) M1=$((BASE + 3)) M2=$((BASE + 4))
limits=(--max-connections-per-ip 20000 --messages-per-window 1000000 --frames-per-window 1000000
  --max-sessions-per-user 64 --auth-rate-per-min 1000000 --user-rate-per-sec 1000000)
common_env=(JWT_SECRET=loadtest-secret-loadtest-secret-loadtest DATABASE_URL="$DB"
  REDIS_URL="$REDIS_URL" REDIS_PREFIX="$PREFIX" BIND=127.0.0.1 RUST_LOG=warn)

env "${common_env[@]}" WORKER_ID=1 DATA_DIR="$WORK/api" "$BIN/layer4" api --api-port "$API" "${limits[@]}" &
A=$!
# The API migrates the database before the gateways start: three processes migrating
# one SQLite file at once can wait on its lock past the busy timeout.
for _ in $(seq 1 150); do
  curl -sf "http://127.0.0.1:$API/readyz" >/dev/null 2>&1 && break
  kill -0 "$A" 2>/dev/null || { echo "layer4 api exited (port $API taken?)"; exit 1; }
  sleep 0.2
done
env "${common_env[@]}" WORKER_ID=2 DATA_DIR="$WORK/g1" "$BIN/layer4" gateway --ws-port "$WS1" \
  --metrics-port "$M1" --shards 1 "${limits[@]}" &
G1=$!
env "${common_env[@]}" WORKER_ID=3 DATA_DIR="$WORK/g2" "$BIN/layer4" gateway --ws-port "$WS2" \
  --metrics-port "$M2" --shards 1 "${limits[@]}" &
G2=$!
for port in "$M1" "$M2"; do
  for _ in $(seq 1 150); do
    curl -sf "http://127.0.0.1:$port/metrics" >/dev/null 2>&1 && break
    sleep 0.2
  done
done
sleep 0.5
kill -0 "$G1" 2>/dev/null && kill -0 "$G2" 2>/dev/null || { echo "a gateway exited (port taken?)"; exit 1; }

export LT_API=http://127.0.0.1:$API LT_FILE="${LT_FILE:-$WORK/users.json}"
REDIS_PID=$(pgrep -x redis-server | head -n1 || true)
echo "cluster: api :$API (pid $A), gateways :$WS1 (pid $G1) :$WS2 (pid $G2), Redis prefix $PREFIX${REDIS_PID:+ (redis-server pid $REDIS_PID)}"

if [[ "${1:-}" == "--" ]]; then
  shift
  LT_GATEWAY=127.0.0.1:$WS1,127.0.0.1:$WS2 \
    LT_METRICS=http://127.0.0.1:$M1/metrics,http://127.0.0.1:$M2/metrics \
    "$BIN/layer4-loadtest" "$@" --server-pid "$A" --server-pid "$G1" --server-pid "$G2" \
    ${REDIS_PID:+--server-pid "$REDIS_PID"}
  exit
fi

MEMBERS=${1:-2000}
SENDERS=${2:-10}
DURATION=${3:-15}
"$BIN/layer4-loadtest" provision --users "$MEMBERS" --group "$MEMBERS"
echo "== two gateways (1 shard each), members split between them; server CPU = both gateways + Redis"
LT_GATEWAY=127.0.0.1:$WS1,127.0.0.1:$WS2 "$BIN/layer4-loadtest" fanout --members "$MEMBERS" \
  --senders "$SENDERS" --window 1 --duration "$DURATION" --server-pid "$G1" --server-pid "$G2" \
  ${REDIS_PID:+--server-pid "$REDIS_PID"}
echo "== one gateway of the same cluster (members all on it); server CPU = that gateway + Redis"
LT_GATEWAY=127.0.0.1:$WS1 "$BIN/layer4-loadtest" fanout --members "$MEMBERS" \
  --senders "$SENDERS" --window 1 --duration "$DURATION" --server-pid "$G1" \
  ${REDIS_PID:+--server-pid "$REDIS_PID"}
