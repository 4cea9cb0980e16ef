#!/bin/sh
# Line and branch coverage of the host tree, per folder, under the ctest
# suite (the fw-emu tests included).
#
#   scripts/coverage.sh [BUILD]        (make coverage: BUILD = $(COV_BUILD))
#
# BUILD (default build-cov) is a Debug tree built with gcc --coverage and no
# sanitizers, kept between runs. Its counters are reset, the tests run, then
# gcovr writes BUILD/coverage/index.html (per file, line by line) and
# BUILD/coverage/summary.csv; a summary per folder is printed.
#
# The port's drivers (port/stm32h743/*.c) are ARM code that runs only inside
# the emulated chip, where gcov cannot count: only flash_sr.c, which a host
# test links, has line figures. For the port, the fw-emu scenarios that take
# the simulator as an argument (tests/fw_emu: enumerate, roundtrip, update,
# ecc_power_cut, hw_faults) are run once more with the chip's register trace
# (H7DFU_SIM_TRACE=1), and each function of the port's objects is listed with
# whether the trace shows it touching a register (BUILD/coverage/port.txt).
# A function that does its work without registers cannot show there.
#
# Environment: COVERAGE_TESTS  a ctest -R regex: only those tests (and, when
#                              each is a program of that name, only those
#                              programs are built); default: every test
#                              but the make-target ones (label targets)
#              COVERAGE_PORT=0 skip the traced runs
#              JOBS            parallel builds and tests (default: nproc)
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-${COV_BUILD:-$root/build-cov}}
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}
mkdir -p "$build" || exit 2
build=$(cd "$build" && pwd)
out=$build/coverage
mkdir -p "$out" || exit 2

die() {
    echo "coverage: $*" >&2
    exit 2
}

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Debug -DH7DFU_SANITIZE=OFF \
    -DCMAKE_C_FLAGS=--coverage -DCMAKE_EXE_LINKER_FLAGS=--coverage >"$out/configure.log" 2>&1 ||
    die "configure failed (see $out/configure.log)"

# ---- build: everything, or only the programs of the chosen tests ----
sel=${COVERAGE_TESTS:-}
only=""
if [ -n "$sel" ]; then
    targets=$(cmake --build "$build" --target help 2>/dev/null | sed -n 's/^\.\.\. \([^ ]*\).*/\1/p')
    for t in $(ctest --test-dir "$build" -N -R "$sel" | sed -n 's/^ *Test *#[0-9]*: *//p'); do
        if printf '%s\n' "$targets" | grep -qx -- "$t"; then
            only="$only $t"
        else
            only=""
            break
        fi
    done
fi
# shellcheck disable=SC2086
cmake --build "$build" -j "$jobs" ${only:+--target $only} >"$out/build.log" 2>&1 ||
    die "build failed (see $out/build.log)"

# ---- run the tests on zeroed counters ----
find "$build" -name '*.gcda' -exec rm -f {} + 2>/dev/null
if [ -n "$sel" ]; then
    set -- -R "$sel"
else
    set -- -LE '^targets$'
fi
ctest --test-dir "$build" -j "$jobs" --output-on-failure "$@" >"$out/ctest.log" 2>&1
tests_rc=$?
grep -E "tests passed|Total Test time" "$out/ctest.log"
[ $tests_rc = 0 ] || echo "coverage: some tests failed (see $out/ctest.log); the figures are those of this run"

# ---- gcovr: HTML and CSV per file, then the folders ----
rm -f "$out"/*.html "$out"/*.css
gcovr -r "$root" -j "$jobs" --object-directory "$build" \
    --filter "$root/core/" --filter "$root/host/" --filter "$root/sim/" --filter "$root/port/" \
    --exclude-unreachable-branches --html-details "$out/index.html" --html-title "h7dfu coverage" \
    --csv "$out/summary.csv" "$build" >"$out/gcovr.log" 2>&1 || die "gcovr failed (see $out/gcovr.log)"

echo
echo "Coverage per folder (gcc --coverage, $(if [ -n "$sel" ]; then echo "tests: $sel"; else echo "the ctest suite"; fi)):"
awk -F, '
NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
{
    f = $col["filename"]; n = split(f, p, "/")
    top = p[1] "/"; sub2 = (n > 2) ? p[1] "/" p[2] "/" : top
    lt = $col["line_total"]; lc = $col["line_covered"]
    bt = $col["branch_total"]; bc = $col["branch_covered"]
    L[top] += lt; LC[top] += lc; B[top] += bt; BC[top] += bc
    if (sub2 != top) { L[sub2] += lt; LC[sub2] += lc; B[sub2] += bt; BC[sub2] += bc; kids[top] = kids[top] " " sub2 }
    TL += lt; TLC += lc; TB += bt; TBC += bc
}
function pct(c, t) { return t ? sprintf("%5.1f %%", 100 * c / t) : "    -  " }
function row(name, l, lc, b, bc) {
    printf "  %-22s lines %s (%6d/%6d)   branches %s (%6d/%6d)\n", name, pct(lc, l), lc, l, pct(bc, b), bc, b
}
END {
    split("core/ host/ sim/ port/", tops, " ")
    for (i = 1; i <= 4; i++) {
        t = tops[i]
        if (!(t in L)) { printf "  %-22s (no file of it was built)\n", t; continue }
        row(t, L[t], LC[t], B[t], BC[t])
        delete seen; m = split(kids[t], k, " ")
        for (j = 1; j <= m; j++) if (!(k[j] in seen)) { seen[k[j]] = 1; row("  " k[j], L[k[j]], LC[k[j]], B[k[j]], BC[k[j]]) }
    }
    row("total", TL, TLC, TB, TBC)
}' "$out/summary.csv" | sed 's|^\(  *\)'"$root"'/|\1|'
echo "  port/: gcov sees only flash_sr.c (linked by the host test fw_port_logic); the drivers"
echo "  run as ARM code on the emulated chip, see the function table below."
echo "HTML report: $out/index.html"

# ---- the port's functions on the emulated chip ----
[ "${COVERAGE_PORT:-1}" != 0 ] || exit $tests_rc
fw=$build/fw
nm_arm=$(command -v arm-none-eabi-nm)
if [ ! -f "$fw/firmware/bootloader.elf" ] || [ ! -x "$build/sim/board/h7dfu-sim" ] || [ -z "$nm_arm" ] ||
    ! ctest --test-dir "$build" -N -L fw-emu | grep -q "fw_emu_update"; then
    echo
    echo "port/ on the emulated chip: not measured (the firmware and h7dfu-sim of this tree are not built;"
    echo "  a run that includes the fw-emu tests builds them)"
    exit $tests_rc
fi
sim=$build/sim/board/h7dfu-sim
h7dfu=$build/host/cli/h7dfu
[ -x "$h7dfu" ] || h7dfu=$(find "$build/host" -name h7dfu -type f -perm -u+x | head -n 1)
seen=$out/port-seen.txt
: >"$seen"
# The simulator, traced: the names of the functions in the trace lines
# ("... PC 0x08001234 (flash_finish+0x1c)") go to $seen, the rest of its
# stderr through.
wrap=$out/trace-sim.sh
cat >"$wrap" <<EOF
#!/bin/sh
st=\$(mktemp)
{ { H7DFU_SIM_TRACE=1 "$sim" "\$@" 2>&1 1>&3 3>&-; echo \$? >"\$st"; } |
    awk '/^mcu: / { if (match(\$0, /\\([A-Za-z_][A-Za-z_0-9.]*\\+0x/)) f[substr(\$0, RSTART + 1, RLENGTH - 4)] = 1; next }
         { print > "/dev/stderr" }
         END { for (k in f) print k >> "$seen" }'; } 3>&1
rc=\$(cat "\$st"); rm -f "\$st"
exit "\$rc"
EOF
chmod +x "$wrap"
echo
echo "port/ on the emulated chip: the fw-emu scenarios again, with the register trace"
for s in enumerate roundtrip update ecc_power_cut hw_faults; do
    t0=$(date +%s)
    if "$root/tests/fw_emu/$s.sh" "$wrap" "$h7dfu" "$fw/firmware" >"$out/trace-$s.log" 2>&1; then r=ok; else r="FAILED (see $out/trace-$s.log)"; fi
    echo "  fw_emu $s: $r, $(($(date +%s) - t0)) s"
done
sort -u "$seen" -o "$seen"
elfsyms=$("$nm_arm" --defined-only "$fw/firmware/bootloader.elf" "$fw/firmware/demo-app.elf" 2>/dev/null |
    awk '$2 ~ /^[tTwW]$/ { print $3 }' | sort -u)
{
    printf '%-16s %-30s %s\n' "file" "function" "on the emulated chip"
    for o in $(find "$fw/port" -name '*.c.obj' | sort); do
        file=$(basename "$o" .obj)
        for fn in $("$nm_arm" --defined-only "$o" | awk '$2 ~ /^[tTwW]$/ { print $3 }' | sort -u); do
            if grep -qx -- "$fn" "$seen"; then
                st="executed (register accesses traced)"
            elif printf '%s\n' "$elfsyms" | grep -qx -- "$fn"; then
                st="no register access traced"
            else
                st="not in the images (inlined or unused)"
            fi
            printf '%-16s %-30s %s\n' "$file" "$fn" "$st"
        done
    done
} >"$out/port.txt"
awk 'NR > 1 { n++; if ($3 == "executed") e++; else if ($3 == "no") q++ }
     END { printf "  port/stm32h743: %d of %d functions seen executing (register accesses), %d in the images without a traced access\n", e, n, q }' "$out/port.txt"
sed 's/^/    /' "$out/port.txt"
exit $tests_rc
