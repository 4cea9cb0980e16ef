#!/bin/sh
# Runs the README's make targets in a short mode, through the Makefile's own
# recipes, so that none of them can break unnoticed. Prints one line per
# target with its wall time; exits 1 when any target failed.
#
#   scripts/check-targets.sh [TARGET...]        (default: all of them)
#
# Build directories: the Makefile's variables BUILD, FW_BUILD, BENCH_BUILD,
# FUZZ_BUILD, COV_BUILD, MUT_BUILD and INSTALL_BUILD from the environment;
# those not set are fresh ones under H7_TARGETS_OUT (default: a new temporary
# directory, removed at the end), so a plain run checks every target as on a
# fresh clone. The ctest tests
# target_<name> (tests/targets/CMakeLists.txt) run it one target at a time,
# with the trees make test has already built where the recipe is the same.
#
# Adding a target: one line in short_mode() below (and its name in the list
# of tests/targets/CMakeLists.txt).
set -u
root=$(cd "$(dirname "$0")/.." && pwd)

# TARGET -> the command that runs it in a short mode (from $root).
short_mode() {
    case $1 in
    demo) echo "make demo" ;;
    test) echo "make test" ;;
    firmware) echo "make firmware" ;;
    bench) echo "env BENCH_SHORT=1 make bench" ;;
    powerloss) echo "env H7_POWERLOSS_STRIDE_256K=2039 H7_POWERLOSS_STRIDE_1M=16381 make powerloss" ;;
    powerloss-fw) echo "env H7_POWERLOSS_FW_KIB=16 H7_POWERLOSS_FW_STRIDE=97 H7_POWERLOSS_FW_RECOVER=1000 make powerloss-fw" ;;
    fuzz) echo "env FUZZ_SECONDS=${FUZZ_SECONDS:-2} FUZZ_SEED=${FUZZ_SEED:-1} make fuzz" ;;
    format) echo "format_on_copy" ;;
    coverage) echo "env COVERAGE_TESTS=^(test_boot_validate|test_dfu|test_flash_map|fw_port_logic)\$ make coverage" ;;
    mutate) echo "env MUTANTS=boot_sp_dtcm_start,dfu_write_reserved make mutate" ;;
    install) echo "tests/install/check.sh" ;;
    *) return 1 ;;
    esac
}
ALL="demo test firmware bench powerloss powerloss-fw fuzz coverage mutate format install"

# `make format` rewrites files: run it on a copy of the tree (a git repository
# of its own, as format.sh lists files with git), then check the result.
# shellcheck disable=SC2317,SC2016 # called through $cmd below
format_on_copy() {
    copy=$out/format-tree
    rm -rf "$copy" && mkdir -p "$copy" || return 1
    (cd "$root" && git ls-files -z --cached --others --exclude-standard) |
        (cd "$root" && xargs -0 sh -c 'for f; do [ -f "$f" ] && printf "%s\0" "$f"; done' sh) |
        (cd "$root" && xargs -0 cp --parents -t "$copy") || return 1
    (cd "$copy" && git init -q && git add -A) || return 1
    make --no-print-directory -C "$copy" format && make --no-print-directory -C "$copy" format-check
}

# shellcheck disable=SC2086 # a list of words
[ $# -gt 0 ] || set -- $ALL
for t in "$@"; do
    short_mode "$t" >/dev/null || {
        echo "check-targets: unknown target $t (known: $ALL)" >&2
        exit 2
    }
done

if [ -n "${H7_TARGETS_OUT:-}" ]; then
    out=$H7_TARGETS_OUT
    mkdir -p "$out"
else
    out=$(mktemp -d "${TMPDIR:-/tmp}/h7-targets.XXXXXX")
    trap 'rm -rf "$out"' EXIT
fi
: "${BUILD:=$out/build}" "${FW_BUILD:=$out/build-fw}" "${BENCH_BUILD:=$out/build-bench}"
: "${FUZZ_BUILD:=$out/build-fuzz}" "${COV_BUILD:=$out/build-cov}" "${MUT_BUILD:=$out/build-mut}"
: "${INSTALL_BUILD:=$out/build-install}"
export BUILD FW_BUILD BENCH_BUILD FUZZ_BUILD COV_BUILD MUT_BUILD INSTALL_BUILD
# A make above this one (make test -> ctest -> here) must not leak its
# jobserver or flags into these makes.
unset MAKEFLAGS MFLAGS MAKELEVEL
cd "$root" || exit 2

failed=0
report=""
for t in "$@"; do
    cmd=$(short_mode "$t")
    echo "== make $t (short mode): $cmd"
    t0=$(date +%s.%N)
    # shellcheck disable=SC2086
    if $cmd; then res=ok; else res=FAILED failed=1; fi
    t1=$(date +%s.%N)
    line=$(echo "$t1 $t0" | awk -v t="$t" -v r="$res" '{ printf "%-10s %7.1f s  %s", t, $1 - $2, r }')
    echo "== $line"
    report="$report$line
"
done
printf '\n%s' "$report"
exit $failed
