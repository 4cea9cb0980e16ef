#!/bin/sh
# Run the libFuzzer binaries of a build (make fuzz): each target for SECONDS on
# its corpus, then a table of executions and crashes per target.
#
#   fuzz/run.sh BUILD_DIR SECONDS [TARGET...]      (TARGET: dfu_requests, ...)
#
# New inputs go to BUILD_DIR/fuzz-corpus/<target>/ (the committed seeds in
# fuzz/corpus/<target>/ are only read), crash reproducers to
# BUILD_DIR/fuzz-artifacts/<target>/, logs to BUILD_DIR/fuzz-logs/<target>.log.
# Replay a reproducer: BUILD_DIR/fuzz/fuzz_<target> FILE
# FUZZ_SEED=N: libFuzzer's -seed (a repeatable run, e.g. the short one of
# scripts/check-targets.sh); default a random seed.
# Exit status 1 when any target crashed.
set -u
if [ $# -lt 2 ]; then
    echo "usage: $0 BUILD_DIR SECONDS [TARGET...]" >&2
    exit 2
fi
build=$1
seconds=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
if [ $# -eq 0 ]; then
    set -- dfu_requests usbd_std plan image_auto image_bin image_ihex image_srec \
        image_dfuse image_dfu image_elf
fi

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

total_exec=0
total_crash=0
report=""
for t in "$@"; do
    bin="$build/fuzz/fuzz_$t"
    if [ ! -x "$bin" ]; then
        echo "fuzz: $bin is missing (configure with CC=clang -DH7DFU_FUZZ=ON)" >&2
        exit 2
    fi
    work="$build/fuzz-corpus/$t"
    art="$build/fuzz-artifacts/$t"
    log="$build/fuzz-logs/$t.log"
    mkdir -p "$work" "$art" "$(dirname "$log")"
    before=$(ls "$art" | wc -l)
    echo "fuzz: $t for ${seconds}s ..."
    # shellcheck disable=SC2086
    "$bin" ${FUZZ_SEED:+-seed="$FUZZ_SEED"} -max_total_time="$seconds" -print_final_stats=1 -max_len=4096 -timeout=10 \
        -rss_limit_mb=2048 -artifact_prefix="$art/" "$work" "$here/corpus/$t" >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    execs=${execs:-0}
    after=$(ls "$art" | wc -l)
    crashes=$((after - before))
    if [ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ]; then
        crashes=1 # died without an artifact: see the log
    fi
    units=$(ls "$work" | wc -l)
    total_exec=$((total_exec + execs))
    total_crash=$((total_crash + crashes))
    report="$report$(printf '%-14s %12s %8s %8s' "$t" "$execs" "$units" "$crashes")
"
    if [ "$crashes" -ne 0 ]; then
        echo "fuzz: $t crashed; log $log, inputs in $art/" >&2
        grep -m 3 -E "ERROR: |runtime error|fuzz invariant" "$log" >&2
    fi
done

printf '\n%-14s %12s %8s %8s\n' target executions corpus crashes
printf '%s' "$report"
printf '%-14s %12s %8s %8s\n' total "$total_exec" "" "$total_crash"
[ "$total_crash" -eq 0 ]
