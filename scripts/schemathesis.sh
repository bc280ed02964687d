#!/usr/bin/env bash
# Fuzzes the HTTP API from its own OpenAPI document (GET /api/openapi.json) with
# schemathesis, every check on: no 5xx, statuses, content types, headers and bodies as
# documented, schema-valid requests accepted and schema-violating ones refused, auth
# not ignored, 405 with Allow for other methods. Exits non-zero on any failure.
#
#   scripts/schemathesis.sh [--examples N] [--seed S] [--url URL [--gateway WS_URL]]
#                           [--workers N] [--report DIR] [-- extra schemathesis run flags]
#
# Without --url it builds `layer4` and runs `layer4 dev` on free ports in a temporary
# data folder, with the per-user and register/login rate limits raised so the run tests
# the routes rather than the limiter (429 stays documented). It registers a user
# through the API and sends its token on every request. Schemathesis lives in a
# virtualenv cached under ~/.cache/layer4-schemathesis (override with
# LAYER4_SCHEMATHESIS_CACHE), built with python3.11 (override with PYTHON3) from the
# pins in scripts/schemathesis/requirements.txt; settings are in
# scripts/schemathesis/schemathesis.toml.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HERE="$ROOT/scripts/schemathesis"
CACHE="${LAYER4_SCHEMATHESIS_CACHE:-$HOME/.cache/layer4-schemathesis}"
VENV="$CACHE/venv"
PYTHON3="${PYTHON3:-python3.11}"
command -v "$PYTHON3" >/dev/null 2>&1 || PYTHON3=python3

EXAMPLES=50
SEED=20260601
URL=""
# One worker: with several, Python 3.11.7's ast.parse (which Hypothesis calls to
# describe filters) can fail with "AST constructor recursion depth mismatch" (a CPython
# thread-safety bug), a schemathesis error that is not the API's fault.
WORKERS=1
REPORT="$ROOT/reports/schemathesis"
GATEWAY_ARG=""
EXTRA=()

usage() {
    sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    cat <<EOF

Options:
  --examples N    test cases per operation and phase (default $EXAMPLES)
  --seed S        random seed (default $SEED)
  --url URL       an API already running (http://HOST:PORT); else start layer4 dev
  --gateway URL   with --url: its gateway (ws://HOST:PORT/gateway), to seed messages
  --workers N     concurrent schemathesis workers (default $WORKERS)
  --report DIR    where the JSON and JUnit reports go (default reports/schemathesis)
EOF
}

while [ $# -gt 0 ]; do
    case "$1" in
        --examples) EXAMPLES="$2"; shift 2 ;;
        --seed) SEED="$2"; shift 2 ;;
        --url) URL="${2%/}"; shift 2 ;;
        --gateway) GATEWAY_ARG="$2"; shift 2 ;;
        --workers) WORKERS="$2"; shift 2 ;;
        --report) REPORT="$2"; shift 2 ;;
        --) shift; EXTRA=("$@"); break ;;
        -h|--help) usage; exit 0 ;;
        *) echo "schemathesis: unknown argument $1" >&2; usage >&2; exit 2 ;;
    esac
done

# ---- the cached virtualenv ---------------------------------------------------------
ensure_venv() {
    local stamp="$VENV/.requirements.sha256"
    local want
    want="$(sha256sum "$HERE/requirements.txt" | cut -d' ' -f1)"
    if [ -x "$VENV/bin/schemathesis" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
        return
    fi
    if ! command -v "$PYTHON3" >/dev/null 2>&1; then
        echo "schemathesis: no $PYTHON3 (install Python 3.11, or set PYTHON3)" >&2
        exit 1
    fi
    echo "schemathesis: building the virtualenv in $VENV" >&2
    rm -rf "$VENV"
    mkdir -p "$CACHE"
    "$PYTHON3" -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$HERE/requirements.txt"
    echo "$want" >"$stamp"
}
ensure_venv
PY="$VENV/bin/python"

# ---- the server, unless given ------------------------------------------------------
SERVER_PID=""
SERVER_LOG=""
DATA_TMP=""
WORK=""
GATEWAY=""
cleanup() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [ -n "$SERVER_LOG" ]; then
        rm -f "$SERVER_LOG"
    fi
    if [ -n "$DATA_TMP" ]; then
        rm -rf "$DATA_TMP"
    fi
    if [ -n "$WORK" ]; then
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT

if [ -z "$URL" ]; then
    target_dir="${CARGO_TARGET_DIR:-$ROOT/target}"
    echo "schemathesis: building layer4" >&2
    (cd "$ROOT" && cargo build --quiet --bin layer4)
    DATA_TMP="$(mktemp -d)"
    SERVER_LOG="$(mktemp)"
    DATABASE_URL="" RUST_LOG="${RUST_LOG:-warn}" "$target_dir/debug/layer4" dev \
        --api-port 0 --ws-port 0 --data-dir "$DATA_TMP" \
        --user-rate-per-sec 1000000 --auth-rate-per-min 1000000 \
        >"$SERVER_LOG" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 200); do
        URL="$(sed -n 's/.*API on \(http:\/\/[^,]*\),.*/\1/p' "$SERVER_LOG" | head -n 1)"
        GATEWAY="$(sed -n 's/.*gateway on \(ws:\/\/[^?]*\).*/\1/p' "$SERVER_LOG" | head -n 1)"
        [ -n "$URL" ] && break
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            cat "$SERVER_LOG" >&2
            echo "schemathesis: layer4 dev exited" >&2
            exit 1
        fi
        sleep 0.1
    done
    if [ -z "$URL" ]; then
        cat "$SERVER_LOG" >&2
        echo "schemathesis: layer4 dev did not start listening" >&2
        exit 1
    fi
fi

if [ -n "$GATEWAY_ARG" ]; then
    GATEWAY="$GATEWAY_ARG"
fi

# ---- the data: users, channels, messages, and the token ------------------------------
# seed.py writes ids.dict beside a copy of schemathesis.toml, which binds it to the id
# parameters (see there).
WORK="$(mktemp -d)"
cp "$HERE/schemathesis.toml" "$WORK/schemathesis.toml"
TOKEN="$("$PY" "$HERE/seed.py" "$URL" "${GATEWAY:--}" "$WORK")"

# ---- the run -----------------------------------------------------------------------
mkdir -p "$REPORT"
REPORT="$(cd "$REPORT" && pwd)"
rm -f "$REPORT/report.json" "$REPORT/junit.xml"
echo "schemathesis: $URL/api/openapi.json, $EXAMPLES examples per operation, seed $SEED" >&2
started=$(date +%s)
status=0
(cd "$WORK" && "$VENV/bin/schemathesis" --config-file "$WORK/schemathesis.toml" run \
    "$URL/api/openapi.json" \
    --checks all \
    --header "Authorization: Bearer $TOKEN" \
    --max-examples "$EXAMPLES" \
    --seed "$SEED" \
    --workers "$WORKERS" \
    --request-timeout 30 \
    --no-color \
    --report json,junit \
    --report-json-path "$REPORT/report.json" \
    --report-junit-path "$REPORT/junit.xml" \
    "${EXTRA[@]}") || status=$?
echo "schemathesis: finished in $(($(date +%s) - started)) s (exit $status); reports in $REPORT" >&2
if [ -f "$REPORT/report.json" ]; then
    "$PY" "$HERE/summarize.py" "$REPORT/report.json" || status=$((status == 0 ? 1 : status))
elif [ "$status" = 0 ]; then
    echo "schemathesis: no report was written" >&2
    status=1
fi
if [ "$status" != 0 ] && [ -n "$SERVER_LOG" ] && [ -s "$SERVER_LOG" ]; then
    echo "schemathesis: the last lines layer4 dev logged:" >&2
    tail -n 40 "$SERVER_LOG" >&2
fi
exit "$status"
