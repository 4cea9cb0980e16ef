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
row() { # NAME FIRMWARE(0/1) CMD...
    name=$1 fwmode=$2
    shift 2
    # The native board's --fast scales the device's own times: it runs with
    # its real times (the host waits them out), the emulated one with --fast.
    opt=""
    [ "$fwmode" = 1 ] && opt="--firmware $FW/bootloader.elf --fast"
    rm -f "$W/fl.h7"
    # shellcheck disable=SC2086
    "$SIM" $opt --flash "$W/fl.h7" run -- dfu-util -a 0 -s 0x08020000 -D "$W/old.bin" \
        >/dev/null 2>&1 || { echo "bench/fw_emu: $name: preparing the board failed" >&2; exit 1; }
    t0=$(now)
    # shellcheck disable=SC2086
    "$SIM" $opt --flash "$W/fl.h7" --stats "$W/st" run -- "$@" >"$W/log" 2>&1 ||
        { cat "$W/log"; echo "bench/fw_emu: $name failed" >&2; exit 1; }
    t1=$(now)
    awk -v n="$name" -v a="$t0" -v b="$t1" -v m="$(sed -n 's/^modeled_s=//p' "$W/st")" \
        'BEGIN { printf "%-44s wall %6.2f s   modeled %6.2f s\n", n, b - a, m }'
}
echo "exact firmware on the emulated chip, $((SIZE / 1024)) KiB at 0x08020000:"
row "dfu-util -D, emulated firmware" 1 dfu-util -a 0 -s 0x08020000 -D "$W/new.bin"
row "h7dfu write (CRC verify), emulated firmware" 1 "$H7" -q write -s 0x08020000 "$W/new.bin"
row "dfu-util -D, native board (for comparison)" 0 dfu-util -a 0 -s 0x08020000 -D "$W/new.bin"
