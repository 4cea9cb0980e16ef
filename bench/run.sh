#!/bin/sh
# bench/run.sh BUILD_DIR: h7dfu against dfu-util on the virtual board.
#
# Every row writes an image at 0x08020000 (the application slot) onto a board
# whose flash holds a DIFFERENT image (so every touched sector must really be
# erased), except the "one sector changed" rows, which start from the
# unchanged image. For each row it prints:
#   modeled  virtual time of the run (h7dfu-sim --stats: USB transfers,
#            bwPollTimeout waits, flash work; sim/usb/usb_timing.h, DS12110)
#   wall     real time of the run
#   bound    the physical bound for the payload: max(USB time of its DNLOAD
#            transfers, flash time = erases x 1 s + words x 100 us)
#   x bound  modeled / bound;  x dfu-util  modeled / dfu-util's modeled
# Then the bootloader's flash and RAM (firmware size report) and h7dfu's CPU
# time per MiB. Reproduce with: make bench
#
# BENCH_SHORT=1: the same rows with a 512 KiB image instead of 1 MiB and the
# board's --fast (tiny bwPollTimeout: the tools do not wait out the modeled
# flash time), a check that the benchmark still runs (make test, through
# scripts/check-targets.sh); its figures are not those of docs/performance.md.
set -eu
B=${1:-build-bench}
case $B in /*) ;; *) B=$(pwd)/$B ;; esac
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SIM=$B/sim/board/h7dfu-sim
H7=$B/host/cli/h7dfu
USBT=$B/sim/usb/h7-usbtime
FW_BUILD=${FW_BUILD:-$ROOT/build-fw}
for t in "$SIM" "$H7" "$USBT"; do
    [ -x "$t" ] || { echo "bench: $t missing (build $B first)" >&2; exit 1; }
done
command -v dfu-util >/dev/null || { echo "bench: dfu-util not installed" >&2; exit 1; }

W=$(mktemp -d /tmp/h7bench.XXXXXX)
trap 'rm -rf "$W"' EXIT
SLOT=0x08020000
SECTOR=131072
# the large image: 1 MiB (8 sectors), 512 KiB (4) in short mode
BIG=1048576
BIGNAME=1m
FAST=""
if [ "${BENCH_SHORT:-0}" != 0 ]; then
    BIG=524288
    BIGNAME=512k
    FAST=--fast
    echo "bench: short mode (BENCH_SHORT): 512 KiB instead of 1 MiB, --fast board, figures not comparable"
fi
BIGSECT=$((BIG / SECTOR))

# deterministic pseudo-random data (the content does not change the timing)
LC_ALL=C; export LC_ALL
gen() { # gen BYTES SEED OUT
    awk -v n="$1" -v seed="$2" 'BEGIN { srand(seed); for (i = 0; i < n; i++) printf "%c", int(rand() * 256) }' >"$3"
}
gen $BIG 1 "$W/old1m.bin"
gen $BIG 2 "$W/new1m.bin"
head -c 131072 "$W/old1m.bin" >"$W/old128k.bin"
head -c 131072 "$W/new1m.bin" >"$W/new128k.bin"
# one sector changed: bytes in the 4th sector of the image differ
cp "$W/new1m.bin" "$W/chg1m.bin"
printf 'changed' | dd of="$W/chg1m.bin" bs=1 seek=$((3 * SECTOR + 1000)) conv=notrunc 2>/dev/null

# stamped images: a body linked at the slot start 0x08020000 (plausible SP
# and Thumb reset vector), BIG bytes; its record goes to sector 15
head -c $((BIG)) "$W/new1m.bin" >"$W/body1.bin"
printf '\000\000\002\040\001\006\002\010' | dd of="$W/body1.bin" bs=1 conv=notrunc 2>/dev/null
cp "$W/body1.bin" "$W/body2.bin"
printf 'changed' | dd of="$W/body2.bin" bs=1 seek=$((3 * SECTOR + 1000)) conv=notrunc 2>/dev/null
"$H7" -q image stamp -V 1.0.0 -s 0x08020000 "$W/body1.bin" "$W/st1.bin" || echo "bench: stamp failed" >&2
"$H7" -q image stamp -V 1.0.1 -s 0x08020000 "$W/body2.bin" "$W/st2.bin" || echo "bench: stamp failed" >&2

# a flash file holding IMAGE (prepared outside the measured run)
prep() { # prep FLASH IMAGE
    rm -f "$1"
    # shellcheck disable=SC2086
    "$SIM" $FAST --flash "$1" run -- "$H7" -q write --no-skip -s $SLOT "$2" >/dev/null 2>&1 ||
        "$SIM" $FAST --flash "$1" run -- "$H7" write --no-skip -s $SLOT "$2" >/dev/null
}

# run NAME FLASH -- COMMAND...: prints "modeled wall cpu"
run() {
    name=$1; fl=$2; shift 3
    t0=$(date +%s.%N)
    # shellcheck disable=SC2086
    "$SIM" $FAST --flash "$fl" --stats "$W/$name.st" run -- /usr/bin/time -f '%U %S' -o "$W/$name.cpu" "$@" \
        >"$W/$name.out" 2>&1 || { echo "bench: $name failed:" >&2; cat "$W/$name.out" >&2; exit 1; }
    t1=$(date +%s.%N)
    m=$(sed -n 's/^modeled_s=//p' "$W/$name.st")
    c=$(awk '{ print $1 + $2 }' "$W/$name.cpu")
    echo "$m $(echo "$t1 $t0" | awk '{ printf "%.3f", $1 - $2 }') $c"
}

bound() { # bound BYTES ERASES: max(USB, flash) in s
    u=$("$USBT" "$1" 2048)
    awk -v u="$u" -v b="$1" -v e="$2" 'BEGIN { f = e * 1.0 + (b / 32) * 100e-6; printf "%.3f %.3f %.3f", (u > f ? u : f), u, f }'
}

prep "$W/base-old1m.flash" "$W/old1m.bin"
prep "$W/base-new1m.flash" "$W/new1m.bin"
[ -s "$W/st1.bin" ] && prep "$W/base-st1.flash" "$W/st1.bin"

printf '\n%-34s %9s %8s %6s %8s %9s %9s %8s %10s\n' "case" "modeled" "wall" "m/w" "bound" "(usb" "flash)" "x bound" "x dfu-util"
row() { # row LABEL RESULT BOUND DFUUTIL_MODELED
    echo "$2 $3 $4" | awk -v l="$1" '{ du = ($7 == "-" ? "" : sprintf("%.2f", $1 / $7));
        printf "%-34s %8.3fs %7.2fs %6.2f %7.3fs %8.3fs %8.3fs %8.2f %10s\n", l, $1, $2, $1 / $2, $4, $5, $6, $1 / $4, du }'
}

for size in 1m 128k; do
    bytes=$([ $size = 1m ] && echo $BIG || echo 131072)
    label=$([ $size = 1m ] && echo $BIGNAME || echo $size)
    sectors=$((bytes / SECTOR))
    cp "$W/base-old1m.flash" "$W/a.flash"
    rd=$(run dfuutil-$size "$W/a.flash" -- dfu-util -a 0 -s $SLOT -D "$W/new$size.bin")
    cp "$W/base-old1m.flash" "$W/a.flash"
    rh=$(run h7dfu-$size "$W/a.flash" -- "$H7" write -s $SLOT "$W/new$size.bin")
    bd=$(bound $bytes $sectors)
    md=$(echo "$rd" | cut -d' ' -f1)
    row "write $label: dfu-util 0.11" "$rd" "$bd" "-"
    row "write $label: h7dfu" "$rh" "$bd" "$md"
    [ $size = 1m ] && { H7FULL=$(echo "$rh" | cut -d' ' -f1); H7CPU=$(echo "$rh" | cut -d' ' -f3); }
done

# one changed sector out of BIG (raw image): skip vs whole
b1=$(bound $SECTOR 1)
cp "$W/base-new1m.flash" "$W/a.flash"
rd=$(run dfuutil-chg "$W/a.flash" -- dfu-util -a 0 -s $SLOT -D "$W/chg1m.bin")
cp "$W/base-new1m.flash" "$W/a.flash"
rn=$(run h7dfu-chg-noskip "$W/a.flash" -- "$H7" write --no-skip -s $SLOT "$W/chg1m.bin")
cp "$W/base-new1m.flash" "$W/a.flash"
rs=$(run h7dfu-chg "$W/a.flash" -- "$H7" write -s $SLOT "$W/chg1m.bin")
md=$(echo "$rd" | cut -d' ' -f1)
row "1 sector changed: dfu-util" "$rd" "$b1" "-"
row "1 sector changed: h7dfu --no-skip" "$rn" "$b1" "$md"
row "1 sector changed: h7dfu" "$rs" "$b1" "$md"
SPEEDUP_RAW=$(echo "$rn $rs" | awk '{ printf "%.1f", $1 / $4 }')

SPEEDUP_ST=-
if [ -s "$W/st2.bin" ]; then
    # one body sector and the record's two flash words (sector 15, no erase)
    b2=$(bound $((SECTOR + 64)) 1)
    cp "$W/base-st1.flash" "$W/a.flash"
    # the board runs v1.0.0: `h7dfu update` detaches it, writes, starts v1.0.1
    rn=$(run h7dfu-st-noskip "$W/a.flash" -- "$H7" update --no-skip -s $SLOT "$W/st2.bin")
    cp "$W/base-st1.flash" "$W/a.flash"
    rs=$(run h7dfu-st "$W/a.flash" -- "$H7" update -s $SLOT "$W/st2.bin")
    row "stamped update: --no-skip" "$rn" "$b2" "-"
    row "stamped update, 1 body sector" "$rs" "$b2" "-"
    SPEEDUP_ST=$(echo "$rn $rs" | awk '{ printf "%.1f", $1 / $4 }')
fi
echo
echo "update with 1 changed sector vs whole write (modeled): raw image ${SPEEDUP_RAW}x, stamped image ${SPEEDUP_ST}x"
echo "flash-time ceiling for 1 of $BIGSECT sectors: $(awk -v n=$BIGSECT 'BEGIN { printf "%.1f", (n + n * 4096 * 100e-6) / (1 + 4096 * 100e-6) }')x raw, $(awk -v n=$BIGSECT 'BEGIN { printf "%.1f", (n + n * 4096 * 100e-6) / (1 + 4098 * 100e-6) }')x stamped (1 sector + the record)"
echo "h7dfu CPU time (user+sys) per MiB written: $(awk -v c="$H7CPU" -v b=$BIG 'BEGIN { printf "%.2f", c * 1048576 / b }') s"

# bootloader size (firmware build)
SZ=$FW_BUILD/firmware/bootloader.size.txt
if [ ! -f "$SZ" ] && command -v arm-none-eabi-gcc >/dev/null; then
    cmake -S "$ROOT" -B "$FW_BUILD" -DCMAKE_TOOLCHAIN_FILE="$ROOT/cmake/arm-none-eabi.cmake" \
        -DCMAKE_BUILD_TYPE=MinSizeRel >/dev/null && cmake --build "$FW_BUILD" -j 2 >/dev/null 2>&1 || true
fi
if [ -f "$SZ" ]; then
    awk 'function hex(s,  i, v) { v = 0; s = tolower(substr(s, 3));
             for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1; return v }
         $3 ~ /^0x8/ || $1 == ".data" || $1 == ".text" { fl += hex($2) } $3 ~ /^0x2/ { ram += hex($2) }
         END { printf "bootloader: flash %d bytes (%.1f KiB; .text runs from ITCM), RAM %d bytes (%.1f KiB, transfer buffers included)  [%s]\n", fl, fl / 1024, ram, ram / 1024, FILENAME }' "$SZ"
else
    echo "bootloader: no size report (build the firmware: make firmware)"
fi
