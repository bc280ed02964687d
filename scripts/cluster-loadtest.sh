#!/usr/bin/env bash
# The fanout scenario against a two-gateway cluster (one `layer4 api`, two
# `layer4 gateway`, Redis, a shared database) beside the same run on one node.
#
#   scripts/cluster-loadtest.sh [MEMBERS] [SENDERS] [DURATION]
#
# Needs release binaries (cargo build --release -p layer4 -p loadtest) and Redis at
# REDIS_URL (default redis://127.0.0.1:6379). DATABASE_URL picks the database (default:
# a shared SQLite file). Prints the harness's tables; exits non-zero when a check fails.
set -euo pipefail
cd "$(dirname "$0")/.."
MEMBERS=${1:-2000}
SENDERS=${2:-10}
DURATION=${3:-15}
BIN=${CARGO_TARGET_DIR:-target}/release
REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}
WORK=$(mktemp -d /tmp/l4-cluster.XXXXXX)
DB=${DATABASE_URL:-sqlite://$WORK/cluster.db}
PREFIX="l4lt:$$:"
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT

limits=(--max-connections-per-ip 20000 --messages-per-window 1000000 --frames-per-window 1000000
  --max-sessions-per-user 64 --auth-rate-per-min 1000000 --user-rate-per-sec 1000000)
common_env=(JWT_SECRET=loadtest-secret-loadtest-secret-loadtest DATABASE_URL="$DB"
  REDIS_URL="$REDIS_URL" REDIS_PREFIX="$PREFIX" BIND=127.0.0.1 RUST_LOG=warn)

env "${common_env[@]}" WORKER_ID=1 DATA_DIR="$WORK/api" "$BIN/layer4" api --api-port 3300 "${limits[@]}" &
env "${common_env[@]}" WORKER_ID=2 DATA_DIR="$WORK/g1" "$BIN/layer4" gateway --ws-port 3301 --shards 1 "${limits[@]}" &
G1=$!
env "${common_env[@]}" WORKER_ID=3 DATA_DIR="$WORK/g2" "$BIN/layer4" gateway --ws-port 3302 --shards 1 "${limits[@]}" &
G2=$!
for _ in $(seq 1 100); do
  curl -sf http://127.0.0.1:3300/readyz >/dev/null && break
  sleep 0.2
done

export LT_API=http://127.0.0.1:3300 LT_FILE="$WORK/users.json"
"$BIN/layer4-loadtest" provision --users "$MEMBERS" --group "$MEMBERS"
REDIS_PID=$(pgrep -x redis-server | head -n1 || true)
echo "== two gateways (1 shard each), members split between them; server CPU = both gateways + Redis"
LT_GATEWAY=127.0.0.1:3301,127.0.0.1:3302 "$BIN/layer4-loadtest" fanout --members "$MEMBERS" \
  --senders "$SENDERS" --window 1 --duration "$DURATION" --server-pid "$G1" --server-pid "$G2" \
  ${REDIS_PID:+--server-pid "$REDIS_PID"}
echo "== one gateway of the same cluster (members all on it); server CPU = that gateway + Redis"
LT_GATEWAY=127.0.0.1:3301 "$BIN/layer4-loadtest" fanout --members "$MEMBERS" \
  --senders "$SENDERS" --window 1 --duration "$DURATION" --server-pid "$G1" \
  ${REDIS_PID:+--server-pid "$REDIS_PID"}
