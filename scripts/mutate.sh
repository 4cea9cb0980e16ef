#!/bin/sh
# Mutation testing: each patch in tests/mutants/ puts one small bug into a
# copy of the tree; the tests the patch names must then fail.
#
#   scripts/mutate.sh [WORKDIR]        (make mutate: WORKDIR = $(MUT_BUILD))
#
# A patch is a `git diff` against the tree, with header lines before it:
#   # mutant: what the bug is
#   # tests: a ctest -R regex of the tests that must catch it
# WORKDIR (default build-mut) holds src/, a copy of the committed tree
# (MUTATE_REV, default HEAD: never the working tree, which others edit), and
# build/, its Debug + ASan/UBSan host tree, kept between mutants and runs so
# each build is incremental; the firmware tree is build/fw, built by the
# fw_built ctest fixture when a named test runs the firmware (fw-emu).
#
# Environment: MUTANTS  names (or shell patterns) of the patches to run,
#                       without .patch, separated by spaces or commas
#                       (default: all)
#              MUTATE_BASELINE=0  skip the run of the named tests on the
#                       unmutated copy (which must pass)
#              JOBS     parallel builds and tests (default: nproc)
# Prints KILLED or SURVIVED per mutant and the score; exits 1 when a mutant
# survived or could not be applied or built, 2 on a setup error.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-${MUT_BUILD:-$root/build-mut}}
rev=${MUTATE_REV:-HEAD}
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}
mutdir=$root/tests/mutants
mkdir -p "$work" || exit 2
work=$(cd "$work" && pwd)
src=$work/src
build=$work/build
logs=$work/logs

die() {
    echo "mutate: $*" >&2
    exit 2
}

# ---- the mutants ----
list=""
for p in "$mutdir"/*.patch; do
    [ -f "$p" ] || continue
    n=$(basename "$p" .patch)
    if [ -n "${MUTANTS:-}" ]; then
        hit=0
        for want in $(echo "$MUTANTS" | tr ',' ' '); do
            # shellcheck disable=SC2254 # a pattern on purpose
            case $n in $want) hit=1 ;; esac
        done
        [ $hit = 1 ] || continue
    fi
    list="$list $n"
done
[ -n "$list" ] || die "no mutant in $mutdir matches '${MUTANTS:-*}'"

tests_of() { # NAME: its ctest regex
    sed -n 's/^# tests: *//p' "$mutdir/$1.patch" | head -n 1
}
for n in $list; do
    [ -n "$(tests_of "$n")" ] || die "$n.patch has no '# tests:' line"
done

# ---- the copy: the files of $rev; only those that differ are rewritten, so
# the build stays incremental ----
stage=$work/stage
rm -rf "$stage" && mkdir -p "$stage" "$src" "$logs" || exit 2
git -C "$root" archive "$rev" | tar -x -C "$stage" || die "git archive $rev failed"
(cd "$stage" && find . -type f) | while IFS= read -r f; do
    if ! cmp -s "$stage/$f" "$src/$f"; then
        mkdir -p "$(dirname "$src/$f")" && cp "$stage/$f" "$src/$f" || exit 1
    fi
done || die "copy into $src failed"
(cd "$src" && find . -type f) | while IFS= read -r f; do
    [ -e "$stage/$f" ] || rm -f "$src/$f"
done

cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Debug -DH7DFU_SANITIZE=ON >"$logs/configure.log" 2>&1 ||
    die "configure failed (see $logs/configure.log)"
targets=$(cmake --build "$build" --target help 2>/dev/null | sed -n 's/^\.\.\. \([^ ]*\).*/\1/p')

names_of() { # REGEX: the tests it selects
    ctest --test-dir "$build" -N -R "$1" | sed -n 's/^ *Test *#[0-9]*: *//p'
}

# build_for REGEX LOG: the programs of the tests REGEX selects when each test
# is a program of that name (cmocka tests), else the whole tree.
build_for() {
    names=$(names_of "$1")
    only=""
    for t in $names; do
        if printf '%s\n' "$targets" | grep -qx -- "$t"; then
            only="$only $t"
        else
            only=""
            break
        fi
    done
    if [ -n "$only" ]; then
        # shellcheck disable=SC2086
        cmake --build "$build" -j "$jobs" --target $only >"$2" 2>&1
    else
        cmake --build "$build" -j "$jobs" >"$2" 2>&1
    fi
}

run_tests() { # REGEX LOG
    ctest --test-dir "$build" -R "$1" -j "$jobs" --output-on-failure >>"$2" 2>&1
}

now() { date +%s.%N; }
secs() { echo "$1 $2" | awk '{ printf "%.1f", $2 - $1 }'; }

if [ "${MUTATE_BASELINE:-1}" != 0 ]; then
    all=""
    for n in $list; do all="$all|$(tests_of "$n")"; done
    all=${all#|}
    t0=$(now)
    build_for "$all" "$logs/baseline.log" || die "the unmutated copy does not build (see $logs/baseline.log)"
    run_tests "$all" "$logs/baseline.log" ||
        die "the named tests fail on the unmutated copy (see $logs/baseline.log)"
    echo "baseline: the named tests pass on the unmutated copy ($(secs "$t0" "$(now)") s)"
fi

killed=0 total=0 bad=0 survivors=""
for n in $list; do
    total=$((total + 1))
    re=$(tests_of "$n")
    log=$logs/$n.log
    t0=$(now)
    if [ -z "$(names_of "$re")" ]; then
        res="NO TESTS" # the regex selects none: nothing could kill it
        : >"$log"
    elif ! patch -d "$src" -p1 -s -N -r - <"$mutdir/$n.patch" >"$log" 2>&1; then
        res="NOT APPLIED"
    elif ! build_for "$re" "$log.build"; then
        cat "$log.build" >>"$log"
        res="BUILD FAILED"
    elif run_tests "$re" "$log"; then
        res=SURVIVED
    else
        res=KILLED
    fi
    # back to the unmutated file (a new mtime: the next build remakes it)
    restore=0
    case $res in
    "NO TESTS") ;;
    "NOT APPLIED") restore=1 ;;
    *) patch -d "$src" -p1 -s -R -r - <"$mutdir/$n.patch" >>"$log" 2>&1 || restore=1 ;;
    esac
    if [ $restore = 1 ]; then
        sed -n 's|^+++ b/||p' "$mutdir/$n.patch" | while IFS= read -r f; do
            [ -f "$stage/$f" ] && cp "$stage/$f" "$src/$f"
        done
    fi
    case $res in
    KILLED) killed=$((killed + 1)) ;;
    SURVIVED) survivors="$survivors $n" ;;
    *) bad=$((bad + 1)) survivors="$survivors $n" ;;
    esac
    printf '%-12s %-28s %6s s  tests: %s\n' "$res" "$n" "$(secs "$t0" "$(now)")" "$re"
done

echo "mutation score: $killed/$total killed"
[ -z "$survivors" ] && exit 0
echo "not killed:$survivors (logs in $logs)"
exit 1
