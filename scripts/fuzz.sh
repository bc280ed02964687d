#!/usr/bin/env bash
# Coverage-guided fuzzing of every decoder Layer4 wrote (cargo-fuzz + libFuzzer).
#
#   scripts/fuzz.sh [--seconds N] [TARGET...]
#
# TARGET is one of frame_decoder, frame_differential, handshake, envelope_msgpack,
# envelope_json, session (the default: all six, one after the other). Each runs for N
# seconds (default 20; LAYER4_FUZZ_SECONDS) and the script prints, per target, the
# executions and the crashes; it exits non-zero if any target crashed, timed out, ran
# out of memory or failed to run. The harnesses and what they check: fuzz/src/targets/.
#
# Toolchain: the machine's stable Rust, with `cargo fuzz build -s none`, i.e. libFuzzer's
# coverage instrumentation (sancov, stable -C flags) without a sanitizer. AddressSanitizer
# needs `-Zsanitizer=address` (nightly, or RUSTC_BOOTSTRAP=1 on stable) and would roughly
# halve the executions per second for little gain: the code under test forbids unsafe,
# so the bugs to find are panics (overflow checks and debug assertions are on in the
# fuzz build), wrong answers caught by the harness assertions, hangs and runaway memory
# (libFuzzer's -timeout and -rss_limit_mb catch those without a sanitizer). For an ASan
# run by hand: RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir fuzz TARGET.
#
# Where things go (all outside the work tree, so CI can cache them and nothing lands in
# git by accident):
#   ~/.cache/layer4-fuzz-target       build dir (LAYER4_FUZZ_TARGET); not the shared cache
#   ~/.cache/layer4-fuzz/corpus/T     inputs libFuzzer found, grown run after run
#   ~/.cache/layer4-fuzz/artifacts/T  crashing inputs (crash-*, timeout-*, oom-*)
#   ~/.cache/layer4-fuzz/logs/T.log   libFuzzer's output of the last run
# (LAYER4_FUZZ_WORK moves the last three.) The committed seeds in fuzz/corpus/T are read,
# never written. Reproduce a crash with
#   cargo fuzz run --fuzz-dir fuzz -s none T ~/.cache/layer4-fuzz/artifacts/T/crash-...
# and turn it into a regression test in protocol/tests/fuzz_regressions.rs or
# gateway/tests/fuzz_regressions.rs. Regenerate the seeds with
#   (cd fuzz && cargo run --example write_corpus)
#
# cargo-fuzz is installed with `cargo install cargo-fuzz --locked` (into ~/.cargo/bin)
# when missing. A cold build takes several minutes on 2 cores; cached, the whole run is
# the build check plus N seconds per target.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FUZZ_DIR="$ROOT/fuzz"
ALL_TARGETS=(frame_decoder frame_differential handshake envelope_msgpack envelope_json session)
SECONDS_PER_TARGET="${LAYER4_FUZZ_SECONDS:-20}"
WORK="${LAYER4_FUZZ_WORK:-$HOME/.cache/layer4-fuzz}"
export CARGO_TARGET_DIR="${LAYER4_FUZZ_TARGET:-$HOME/.cache/layer4-fuzz-target}"
export CARGO_TERM_COLOR=never

usage() {
    sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

TARGETS=()
while [ $# -gt 0 ]; do
    case "$1" in
        -h|--help) usage; exit 0 ;;
        --seconds)
            [ $# -ge 2 ] || { echo "--seconds needs a number" >&2; exit 2; }
            SECONDS_PER_TARGET="$2"; shift 2 ;;
        --seconds=*) SECONDS_PER_TARGET="${1#--seconds=}"; shift ;;
        all) TARGETS+=("${ALL_TARGETS[@]}"); shift ;;
        -*) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
        *)
            if [[ " ${ALL_TARGETS[*]} " != *" $1 "* ]]; then
                echo "unknown target: $1 (${ALL_TARGETS[*]})" >&2
                exit 2
            fi
            TARGETS+=("$1"); shift ;;
    esac
done
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=("${ALL_TARGETS[@]}")
if ! [[ "$SECONDS_PER_TARGET" =~ ^[1-9][0-9]*$ ]]; then
    echo "--seconds must be a positive integer, not '$SECONDS_PER_TARGET'" >&2
    exit 2
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "== installing cargo-fuzz (cargo install cargo-fuzz --locked)"
    cargo install cargo-fuzz --locked
fi

cd "$ROOT"
echo "== building fuzz targets ($(cargo fuzz --version), -s none, $CARGO_TARGET_DIR)"
build_start=$(date +%s)
cargo fuzz build --fuzz-dir "$FUZZ_DIR" -s none
echo "   built in $(( $(date +%s) - build_start )) s"

# The failing inputs libFuzzer wrote to directory $1 since file $2 was touched.
new_artifacts() {
    find "$1" -maxdepth 1 -type f -newer "$2" \( -name 'crash-*' -o -name 'timeout-*' \
        -o -name 'oom-*' -o -name 'leak-*' \) 2>/dev/null
}

status=0
results=()
for target in "${TARGETS[@]}"; do
    corpus="$WORK/corpus/$target"
    artifacts="$WORK/artifacts/$target"
    log="$WORK/logs/$target.log"
    started="$WORK/logs/$target.started"
    mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
    touch "$started"
    echo "== $target: ${SECONDS_PER_TARGET} s"
    rc=0
    # The first corpus dir receives new inputs; the committed seeds are only read.
    cargo fuzz run --fuzz-dir "$FUZZ_DIR" -s none "$target" "$corpus" "$FUZZ_DIR/corpus/$target" -- \
        -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$artifacts/" >"$log" 2>&1 || rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
    [ -n "$execs" ] || execs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -n1)
    execs="${execs:-?}"
    crashes=$(new_artifacts "$artifacts" "$started" | wc -l)
    if [ "$rc" -ne 0 ] || [ "$crashes" -ne 0 ]; then
        status=1
        [ "$crashes" -gt 0 ] || crashes="run failed (exit $rc)"
        echo "-- $target: last lines of $log"
        tail -n 40 "$log"
        new_artifacts "$artifacts" "$started" | sed 's/^/   artifact: /'
    fi
    line=$(printf '%-20s executions %10s  crashes %s' "$target" "$execs" "$crashes")
    echo "   $line"
    results+=("$line")
done

echo
echo "== fuzz summary (${SECONDS_PER_TARGET} s per target)"
printf '%s\n' "${results[@]}"
if [ "$status" -ne 0 ]; then
    echo "FAILED: crashing inputs are under $WORK/artifacts/"
fi
exit "$status"
