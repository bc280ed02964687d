#!/usr/bin/env bash
# Mutation testing of the Layer4 core with cargo-mutants (https://mutants.rs).
#
#   scripts/mutants.sh [AREA...] [-- EXTRA_CARGO_MUTANTS_ARGS...]
#   scripts/mutants.sh --summary [AREA...]
#
# AREA is one of:
#   session   gateway/src/core/{session,heartbeat,ratelimit,replay}.rs
#   frame     gateway/src/core/ws/{frame,mask,utf8,close,handshake}.rs + ws/conn/*.rs
#   codec     protocol/src/codec/{msgpack,json,mod}.rs
#   all       the three above, in that order (the default)
#
# Each area writes reports/mutants/AREA/mutants.out (caught.txt, missed.txt, timeout.txt,
# unviable.txt, outcomes.json, per-mutant logs) and prints the counts. cargo-mutants works
# on a scratch copy of the tree, so the checkout is never modified. It runs one mutant at a
# time (--jobs 1: the machine is shared) and builds into its own target dir,
# ~/.cache/layer4-mutants-target (override with LAYER4_MUTANTS_TARGET), so it does not hold
# the shared build cache's lock for hours.
#
# Extra args go to cargo-mutants, e.g. sample with `-- --shard 1/4`, skip the mutants the
# last run caught with `-- --iterate`, or pick mutants with `-- --re 'decode_header'`.
# Install the tool with `cargo install cargo-mutants --locked`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${LAYER4_MUTANTS_OUT:-$ROOT/reports/mutants}"
export CARGO_TARGET_DIR="${LAYER4_MUTANTS_TARGET:-$HOME/.cache/layer4-mutants-target}"
# Seconds for one test run of one mutant (the unmutated suites take about a second); a
# mutant that loops forever is a "timeout".
TEST_TIMEOUT="${LAYER4_MUTANTS_TIMEOUT:-30}"
BUILD_TIMEOUT="${LAYER4_MUTANTS_BUILD_TIMEOUT:-900}"

usage() {
    sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

# The cargo-mutants selection for one area: package and file globs.
area_args() {
    case "$1" in
        session)
            echo "-p gateway \
                -f gateway/src/core/session.rs -f gateway/src/core/heartbeat.rs \
                -f gateway/src/core/ratelimit.rs -f gateway/src/core/replay.rs"
            ;;
        frame)
            echo "-p gateway \
                -f gateway/src/core/ws/frame.rs -f gateway/src/core/ws/mask.rs \
                -f gateway/src/core/ws/utf8.rs -f gateway/src/core/ws/close.rs \
                -f gateway/src/core/ws/handshake.rs -f gateway/src/core/ws/conn/*.rs \
                -e gateway/src/core/ws/conn/tests.rs"
            ;;
        codec)
            echo "-p protocol \
                -f protocol/src/codec/msgpack.rs -f protocol/src/codec/json.rs \
                -f protocol/src/codec/mod.rs"
            ;;
        *)
            echo "unknown area: $1 (session, frame, codec, all)" >&2
            return 1
            ;;
    esac
}

count() {
    if [ -f "$1" ]; then grep -c . "$1" || true; else echo 0; fi
}

# Prints one line of counts for an area's last run.
summary() {
    local dir="$OUT/$1/mutants.out"
    if [ ! -d "$dir" ]; then
        echo "$1: no results in $dir"
        return
    fi
    printf '%-8s caught %4s  missed %4s  unviable %4s  timeout %4s\n' "$1" \
        "$(count "$dir/caught.txt")" "$(count "$dir/missed.txt")" \
        "$(count "$dir/unviable.txt")" "$(count "$dir/timeout.txt")"
    if [ -s "$dir/missed.txt" ]; then
        sed 's/^/    missed: /' "$dir/missed.txt"
    fi
    if [ -s "$dir/timeout.txt" ]; then
        sed 's/^/    timeout: /' "$dir/timeout.txt"
    fi
}

AREAS=()
EXTRA=()
SUMMARY_ONLY=0
while [ $# -gt 0 ]; do
    case "$1" in
        -h|--help) usage; exit 0 ;;
        --summary) SUMMARY_ONLY=1; shift ;;
        --) shift; EXTRA=("$@"); break ;;
        all) AREAS+=(session frame codec); shift ;;
        *) area_args "$1" >/dev/null; AREAS+=("$1"); shift ;;
    esac
done
[ ${#AREAS[@]} -gt 0 ] || AREAS=(session frame codec)

if [ "$SUMMARY_ONLY" = 1 ]; then
    for area in "${AREAS[@]}"; do summary "$area"; done
    exit 0
fi

if ! cargo mutants --version >/dev/null 2>&1; then
    echo "cargo-mutants is not installed: cargo install cargo-mutants --locked" >&2
    exit 1
fi

cd "$ROOT"
status=0
for area in "${AREAS[@]}"; do
    mkdir -p "$OUT/$area"
    start=$(date +%s)
    # shellcheck disable=SC2046 # the area's args are meant to split into words
    set -f
    args=($(area_args "$area"))
    set +f
    echo "== $area: cargo mutants ${args[*]} ${EXTRA[*]:-}"
    # Exit codes: 0 all caught, 2 some missed, 3 some timed out, 4 baseline failed.
    rc=0
    cargo mutants "${args[@]}" \
        --jobs 1 \
        --timeout "$TEST_TIMEOUT" \
        --build-timeout "$BUILD_TIMEOUT" \
        --no-shuffle \
        --colors never \
        -o "$OUT/$area" \
        "${EXTRA[@]}" || rc=$?
    [ "$rc" = 0 ] || [ "$rc" = 2 ] || [ "$rc" = 3 ] || status=$rc
    echo "== $area took $(( $(date +%s) - start ))s"
    summary "$area"
done
exit $status
