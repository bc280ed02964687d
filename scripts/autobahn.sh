#!/usr/bin/env bash
# Runs the Autobahn|Testsuite fuzzing client (RFC 6455 conformance) against a WebSocket
# echo endpoint and fails when any case is not acceptable (see autobahn/summarize.py).
#
#   scripts/autobahn.sh --url ws://127.0.0.1:3001/echo [--cases '1.*,2.*'] [--report DIR]
#   scripts/autobahn.sh --start-gateway [--io epoll|uring] [--max-message-bytes N] [--release] [--cases ...]
#   scripts/autobahn.sh --start-echo [--max-message-bytes N] [--release] [--cases ...]
#
# --start-gateway builds `layer4` and runs `layer4 dev --echo-endpoint` on free ports in a
# temporary data folder: the real gateway's /echo (same codec, limits and IO driver as
# /gateway; --io picks its IO driver, CI runs epoll and uring). This is what CI runs. --start-echo builds and starts the bare-core example
# gateway/examples/ws_echo.rs instead. The suite is Python 2.7 code: it lives in a virtualenv cached under
# ~/.cache/layer4-autobahn (override with LAYER4_AUTOBAHN_CACHE), built on first use
# from pyenv's 2.7.18 (override the interpreter with PYTHON27) and the pins in
# scripts/autobahn/requirements.txt.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HERE="$ROOT/scripts/autobahn"
CACHE="${LAYER4_AUTOBAHN_CACHE:-$HOME/.cache/layer4-autobahn}"
VENV="$CACHE/venv"
PYTHON27="${PYTHON27:-$HOME/.pyenv/versions/2.7.18/bin/python}"
PYTHON3="${PYTHON3:-python3.11}"
command -v "$PYTHON3" >/dev/null 2>&1 || PYTHON3=python3

URL=""
CASES="1.*,2.*,3.*,4.*,5.*,6.*,7.*,10.*"
EXCLUDE=""
REPORT="$ROOT/reports/autobahn"
START_ECHO=0
MAX_MESSAGE_BYTES=""
RELEASE=0
IO=""

usage() {
    sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    cat <<EOF

Options:
  --url URL                  the endpoint to test (ws://...)
  --cases LIST               comma-separated case patterns (default: $CASES)
  --exclude LIST             comma-separated case patterns to skip
  --report DIR               where the report goes (default: reports/autobahn)
  --start-gateway            build and start `layer4 dev --echo-endpoint`, test its /echo
  --start-echo               build and start the ws_echo example, test it
  --io DRIVER                IO driver of the started gateway: epoll, uring or auto
  --max-message-bytes N      inbound cap of the started echo server (default 65536)
  --release                  build the echo server with --release
EOF
}

while [ $# -gt 0 ]; do
    case "$1" in
        --url) URL="$2"; shift 2 ;;
        --cases) CASES="$2"; shift 2 ;;
        --exclude) EXCLUDE="$2"; shift 2 ;;
        --report) REPORT="$2"; shift 2 ;;
        --start-echo) START_ECHO=1; shift ;;
        --start-gateway) START_ECHO=2; shift ;;
        --max-message-bytes) MAX_MESSAGE_BYTES="$2"; shift 2 ;;
        --release) RELEASE=1; shift ;;
        --io) IO="$2"; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "autobahn: unknown argument $1" >&2; usage >&2; exit 2 ;;
    esac
done

if [ "$START_ECHO" = 0 ] && [ -z "$URL" ]; then
    echo "autobahn: give --url or --start-echo" >&2
    exit 2
fi
if [ -n "$IO" ] && [ "$START_ECHO" != 2 ]; then
    echo "autobahn: --io only applies with --start-gateway" >&2
    exit 2
fi
if [ "$START_ECHO" != 0 ] && [ -n "$URL" ]; then
    echo "autobahn: --url and --start-* exclude each other" >&2
    exit 2
fi

# ---- the cached virtualenv ---------------------------------------------------------
ensure_venv() {
    local stamp="$VENV/.requirements.sha256"
    local want
    want="$(sha256sum "$HERE/requirements.txt" | cut -d' ' -f1)"
    if [ -x "$VENV/bin/wstest" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
        return
    fi
    echo "autobahn: building the Python 2.7 virtualenv in $VENV" >&2
    if [ ! -x "$PYTHON27" ]; then
        echo "autobahn: no Python 2.7 at $PYTHON27 (pyenv install 2.7.18, or set PYTHON27)" >&2
        exit 1
    fi
    if ! "$PYTHON3" -m virtualenv --version >/dev/null 2>&1; then
        # virtualenv 20.22 dropped support for creating Python 2 environments.
        "$PYTHON3" -m pip install --quiet 'virtualenv<20.22'
    fi
    rm -rf "$VENV"
    mkdir -p "$CACHE"
    "$PYTHON3" -m virtualenv --quiet -p "$PYTHON27" "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$HERE/requirements.txt"
    echo "$want" >"$stamp"
}
ensure_venv

# ---- the echo server, when asked ---------------------------------------------------
ECHO_PID=""
ECHO_LOG=""
cleanup() {
    if [ -n "$ECHO_PID" ]; then
        kill "$ECHO_PID" 2>/dev/null || true
        wait "$ECHO_PID" 2>/dev/null || true
    fi
    if [ -n "$ECHO_LOG" ]; then
        rm -f "$ECHO_LOG"
    fi
    if [ -n "${DATA_TMP:-}" ]; then
        rm -rf "$DATA_TMP"
    fi
}
trap cleanup EXIT

if [ "$START_ECHO" != 0 ]; then
    profile=debug
    build_flags=()
    if [ "$RELEASE" = 1 ]; then
        profile=release
        build_flags=(--release)
    fi
    target_dir="${CARGO_TARGET_DIR:-$ROOT/target}"
    ECHO_LOG="$(mktemp)"
    if [ "$START_ECHO" = 1 ]; then
        echo "autobahn: building the ws_echo example ($profile)" >&2
        (cd "$ROOT" && cargo build --quiet -p gateway --example ws_echo "${build_flags[@]}")
        echo_args=(--port 0)
        if [ -n "$MAX_MESSAGE_BYTES" ]; then
            echo_args+=(--max-message-bytes "$MAX_MESSAGE_BYTES")
        fi
        "$target_dir/$profile/examples/ws_echo" "${echo_args[@]}" >"$ECHO_LOG" 2>&1 &
        ECHO_PID=$!
        pattern='s/^ws_echo listening on //p'
    else
        echo "autobahn: building layer4 ($profile)" >&2
        (cd "$ROOT" && cargo build --quiet --bin layer4 "${build_flags[@]}")
        DATA_TMP="$(mktemp -d)"
        echo_args=(dev --echo-endpoint --ws-port 0 --api-port 0 --data-dir "$DATA_TMP")
        if [ -n "$MAX_MESSAGE_BYTES" ]; then
            echo_args+=(--max-message-bytes "$MAX_MESSAGE_BYTES")
        fi
        if [ -n "$IO" ]; then
            echo_args+=(--io "$IO")
        fi
        DATABASE_URL="" RUST_LOG=warn "$target_dir/$profile/layer4" "${echo_args[@]}" >"$ECHO_LOG" 2>&1 &
        ECHO_PID=$!
        pattern='s/.*gateway on ws:\/\/\([^/]*\)\/gateway.*/\1/p'
    fi
    addr=""
    for _ in $(seq 1 200); do
        addr="$(sed -n "$pattern" "$ECHO_LOG" | head -n 1)"
        [ -n "$addr" ] && break
        if ! kill -0 "$ECHO_PID" 2>/dev/null; then
            cat "$ECHO_LOG" >&2
            echo "autobahn: the echo server exited" >&2
            exit 1
        fi
        sleep 0.1
    done
    if [ -z "$addr" ]; then
        cat "$ECHO_LOG" >&2
        echo "autobahn: the echo server did not start listening" >&2
        exit 1
    fi
    URL="ws://$addr/echo"
elif [ -n "$MAX_MESSAGE_BYTES" ] || [ "$RELEASE" = 1 ]; then
    echo "autobahn: --max-message-bytes and --release only apply with --start-*" >&2
    exit 2
fi

# ---- the run -----------------------------------------------------------------------
mkdir -p "$REPORT"
REPORT="$(cd "$REPORT" && pwd)"
# Only what an earlier run of this script wrote (the agent is "layer4").
rm -f "$REPORT"/index.json "$REPORT"/index.html "$REPORT"/layer4_case_*
SPEC="$REPORT/spec.json"
"$PYTHON3" - "$URL" "$CASES" "$EXCLUDE" "$REPORT" >"$SPEC" <<'EOF'
import json, sys
url, cases, exclude, outdir = sys.argv[1:5]
split = lambda s: [c.strip() for c in s.split(",") if c.strip()]
json.dump({
    "options": {},
    "outdir": outdir,
    "servers": [{"agent": "layer4", "url": url}],
    "cases": split(cases),
    "exclude-cases": split(exclude),
    "exclude-agent-cases": {},
}, sys.stdout, indent=2)
EOF

echo "autobahn: running cases $CASES against $URL (log: $REPORT/wstest.log)" >&2
started=$(date +%s)
(cd "$REPORT" && "$VENV/bin/wstest" -m fuzzingclient -s "$SPEC") >"$REPORT/wstest.log" 2>&1 || {
    tail -n 30 "$REPORT/wstest.log" >&2
    echo "autobahn: wstest failed" >&2
    exit 1
}
echo "autobahn: finished in $(($(date +%s) - started)) s; report: $REPORT/index.html" >&2
"$PYTHON3" "$HERE/summarize.py" "$REPORT/index.json"
