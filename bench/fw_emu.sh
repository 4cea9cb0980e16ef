#!/bin/sh
# bench/fw_emu.sh BUILD_DIR FW_DIR: the exact firmware on the emulated chip.
#
# A 1 MiB image at 0x08020000 onto a board holding another image, written by
# dfu-util -D and by h7dfu write (verify included) into the bootloader binary
# running on the emulated Cortex-M7 (h7dfu-sim --firmware), and the same with
# dfu-util on the native board. For each row:
#   wall     real time on this machine (what the emulator costs)
#   modeled  virtual time of the run: USB transfers, the host's waits, the
#            flash work, and the firmware's own instructions (one cycle per
#            two bytes of code executed at its sys_ck); the firmware is the
#            polled one that ships, so USB is NAKed while the flash works.
# The rows and the physical bounds (one flash controller; both banks busy at
# once) go to BUILD_DIR/bench.json, in seconds of the model, each row with
# "firmware": "emulated" or "native"; the keys are named for the 1 MiB image,
# image_bytes gives the size used. The ROM row is the native model of ST's ROM
# bootloader (its code is not ours to emulate).
# The emulated board runs with --fast (the host is shown bwPollTimeout/1000,
# the virtual clock still charges the device's own times); the native one
# without (its --fast scales the device's times). BENCH_SHORT=1: 256 KiB.
set -eu
B=${1:-build-bench}
FW=${2:-build-fw/firmware}
SIM=$B/sim/board/h7dfu-sim
H7=$B/host/cli/h7dfu
for t in "$SIM" "$H7" "$FW/bootloader.elf"; do
    [ -e "$t" ] || { echo "bench/fw_emu: $t missing" >&2; exit 1; }
done
W=$(mktemp -d /tmp/h7fwbench.XXXXXX)
trap 'rm -rf "$W"' EXIT
SIZE=1048576
[ "${BENCH_SHORT:-0}" != 0 ] && SIZE=262144
head -c "$SIZE" /dev/urandom >"$W/old.bin"
head -c "$SIZE" /dev/urandom >"$W/new.bin"

now() { date +%s.%N; }
JSON="$B/bench.json"
json_rows=""
row() { # KEY NAME FIRMWARE(0/1: native, 1: emulated, rom: the native ROM board) CMD...
    key=$1 name=$2 fwmode=$3
    shift 3
    # The native board's --fast scales the device's own times: it runs with
    # its real times (the host waits them out), the emulated one with --fast.
    opt=""
    [ "$fwmode" = 1 ] && opt="--firmware $FW/bootloader.elf --fast"
    [ "$fwmode" = rom ] && opt="--rom --boot0"
    addr=0x08020000
    [ "$fwmode" = rom ] && addr=0x08000000
    rm -f "$W/fl.h7"
    # shellcheck disable=SC2086
    rm -f "$W/fl.h7.ob"
    "$SIM" $opt --flash "$W/fl.h7" run -- dfu-util -a 0 -s $addr -D "$W/old.bin" \
        >/dev/null 2>&1 || { echo "bench/fw_emu: $name: preparing the board failed" >&2; exit 1; }
    t0=$(now)
    # shellcheck disable=SC2086
    "$SIM" $opt --flash "$W/fl.h7" --stats "$W/st" run -- "$@" >"$W/log" 2>&1 ||
        { cat "$W/log"; echo "bench/fw_emu: $name failed" >&2; exit 1; }
    t1=$(now)
    m=$(sed -n 's/^modeled_s=//p' "$W/st")
    awk -v n="$name" -v a="$t0" -v b="$t1" -v m="$m" \
        'BEGIN { printf "%-44s wall %6.2f s   modeled %6.2f s\n", n, b - a, m }'
    fw=native
    [ "$fwmode" = 1 ] && fw=emulated
    json_rows="$json_rows${json_rows:+,
}  \"$key\": {\"seconds\": $m, \"wall_seconds\": $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }'), \"firmware\": \"$fw\"}"
}
echo "exact firmware on the emulated chip, $((SIZE / 1024)) KiB at 0x08020000:"
row write_1m_dfuutil "dfu-util -D, emulated firmware" 1 dfu-util -a 0 -s 0x08020000 -D "$W/new.bin"
row write_1m_h7dfu "h7dfu write (CRC verify), emulated firmware" 1 "$H7" -q write -s 0x08020000 "$W/new.bin"
row write_1m_dfuutil_native "dfu-util -D, native board (for comparison)" 0 dfu-util -a 0 -s 0x08020000 -D "$W/new.bin"
row write_1m_h7dfu_native "h7dfu write, native board" 0 "$H7" -q write -s 0x08020000 "$W/new.bin"
row write_1m_dfuutil_rom "dfu-util -D, ST's ROM bootloader (native model)" rom dfu-util -a 0 -s 0x08000000 -D "$W/new.bin"

# Physical bounds of the image at 0x08020000 (DS12110 typical x64: 1 s per
# sector erase, 100 us per 32-byte word; the USB time of its transfers is
# below the flash time): one controller does every sector in turn; with both
# banks busy at once, the sectors of each bank in turn (bank 2 from 0x08100000).
sectors=$(((SIZE + 131071) / 131072))
bank1=$((sectors < 7 ? sectors : 7))
bank2=$((sectors - bank1))
awk -v s="$sectors" -v b1="$bank1" -v b2="$bank2" 'BEGIN {
    per = 1 + 4096 * 100e-6
    printf "bounds: one bank %.2f s, two banks %.2f s (%d + %d sectors)\n", s * per, (b1 > b2 ? b1 : b2) * per, b1, b2 }'
bounds=$(awk -v s="$sectors" -v b1="$bank1" -v b2="$bank2" 'BEGIN { per = 1 + 4096 * 100e-6
    printf "  \"bound_1m_one_bank\": {\"seconds\": %.4f},\n  \"bound_1m_two_banks\": {\"seconds\": %.4f}", s * per, (b1 > b2 ? b1 : b2) * per }')
printf '{\n  "image_bytes": %d,\n%s,\n%s\n}\n' "$SIZE" "$json_rows" "$bounds" >"$JSON"
echo "written: $JSON"
