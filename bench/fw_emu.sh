#!/bin/sh
# bench/fw_emu.sh BUILD_DIR FW_DIR: writes into the exact bootloader binary
# running on the emulated Cortex-M7 (h7dfu-sim --firmware), with the native
# board and ST's ROM bootloader (its native model: its code is not ours to
# emulate) for comparison. Every board starts holding another image
# (factory-programmed with --install, not timed).
#
# Rows (docs/performance.md):
#   write_1m_*            1 MiB raw image at 0x08020000 (sectors 1..8: seven
#                         in bank 1, one in bank 2), by h7dfu write (CRC
#                         verify included) and by dfu-util -D
#   write_slot_*          the whole slot, 1.75 MiB at 0x08020000 (sectors
#                         1..14, seven in each bank)
#   write_one_sector_raw  the 1 MiB raw image again with one 128 KiB sector
#                         changed (h7dfu skips the seven that match)
#   write_one_sector_stamped, update_stamped_one_sector
#                         a stamped 1 MiB application (the demo app padded)
#                         whose body differs from the board's in one sector:
#                         h7dfu write of it, and the whole h7dfu update cycle
#                         (detach the running app, write, leave, the app back)
#   update_stamped_full   h7dfu update with a body that differs everywhere
#   *_max                 DS12110's maximum flash times (--flash-times max)
# Each row: wall (real time on this machine: what the emulator costs) and
# modeled (virtual time of the run: USB transfers, the host's waits, the
# flash work per bank, the firmware's own instructions at one cycle per two
# bytes of code at its sys_ck). The rows and the physical bounds go to
# BUILD_DIR/bench.json, in seconds of the model, each row with "firmware":
# "emulated" or "native". The emulated board runs with --fast (the host is
# shown bwPollTimeout/1000: it polls sooner; the device keeps its own times);
# the native one without (its --fast scales the device's times).
# BENCH_SHORT=1: 256 KiB images, the "slot" rows 256 KiB across the bank
# boundary (0x080E0000), no maximum-time or update rows; for the targets
# check, figures not comparable.
set -eu
B=${1:-build-bench}
FW=${2:-build-fw/firmware}
SIM=$B/sim/board/h7dfu-sim
H7=$B/host/cli/h7dfu
for t in "$SIM" "$H7" "$FW/bootloader.elf" "$FW/demo-app.elf"; do
    [ -e "$t" ] || { echo "bench/fw_emu: $t missing" >&2; exit 1; }
done
W=$(mktemp -d /tmp/h7fwbench.XXXXXX)
trap 'rm -rf "$W"' EXIT
SHORT=0
[ "${BENCH_SHORT:-0}" != 0 ] && SHORT=1
SIZE=1048576 SLOT=1835008 SLOT_AT=0x08020000
[ $SHORT = 1 ] && SIZE=262144 SLOT=262144 SLOT_AT=0x080E0000
SECTOR=131072
head -c "$SIZE" /dev/urandom >"$W/old.bin"
head -c "$SIZE" /dev/urandom >"$W/new.bin"
head -c "$SLOT" /dev/urandom >"$W/slot_old.bin"
head -c "$SLOT" /dev/urandom >"$W/slot_new.bin"
# the raw image with its fourth sector changed
cp "$W/old.bin" "$W/one.bin"
head -c "$SECTOR" /dev/urandom | dd of="$W/one.bin" bs="$SECTOR" seek=3 conv=notrunc 2>/dev/null

now() { date +%s.%N; }
JSON="$B/bench.json"
json_rows=""
# row KEY NAME MODE INSTALL CMD...: MODE emulated | native | rom | max
# (emulated, --flash-times max); INSTALL the file the board holds first.
row() {
    key=$1 name=$2 mode=$3 inst=$4
    shift 4
    case $mode in
    emulated) opt="--firmware $FW/bootloader.elf --fast" ;;
    max) opt="--firmware $FW/bootloader.elf --fast --flash-times max" ;;
    rom) opt="--rom --boot0" ;;
    *) opt="" ;;
    esac
    rm -f "$W/fl.h7" "$W/fl.h7.ob"
    t0=$(now)
    # shellcheck disable=SC2086
    "$SIM" $opt --flash "$W/fl.h7" --install "$inst" --stats "$W/st" run -- "$@" >"$W/log" 2>&1 ||
        { cat "$W/log"; echo "bench/fw_emu: $name failed" >&2; exit 1; }
    t1=$(now)
    m=$(sed -n 's/^modeled_s=//p' "$W/st")
    awk -v n="$name" -v a="$t0" -v b="$t1" -v m="$m" \
        'BEGIN { printf "  %-58s wall %6.1f s   modeled %6.2f s\n", n, b - a, m }'
    fw=native
    [ "$mode" = emulated ] || [ "$mode" = max ] && fw=emulated
    json_rows="$json_rows${json_rows:+,
}  \"$key\": {\"seconds\": $m, \"wall_seconds\": $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }'), \"firmware\": \"$fw\"}"
}

echo "bench/fw_emu: $((SIZE / 1024)) KiB images at 0x08020000, the exact firmware on the emulated chip"
row write_1m_h7dfu "h7dfu write, emulated firmware" emulated "$W/old.bin" \
    "$H7" -q write -s 0x08020000 "$W/new.bin"
row write_1m_dfuutil "dfu-util -D, emulated firmware" emulated "$W/old.bin" \
    dfu-util -a 0 -s 0x08020000 -D "$W/new.bin"
row write_1m_h7dfu_native "h7dfu write, native board" native "$W/old.bin" \
    "$H7" -q write -s 0x08020000 "$W/new.bin"
row write_1m_dfuutil_native "dfu-util -D, native board" native "$W/old.bin" \
    dfu-util -a 0 -s 0x08020000 -D "$W/new.bin"
row write_1m_dfuutil_rom "dfu-util -D, ST's ROM bootloader (native model)" rom "$W/old.bin" \
    dfu-util -a 0 -s 0x08000000 -D "$W/new.bin"
row write_slot_h7dfu "h7dfu write, $((SLOT / 1024)) KiB at $SLOT_AT (slot)" emulated "$W/slot_old.bin" \
    "$H7" -q write -s "$SLOT_AT" "$W/slot_new.bin"
row write_slot_dfuutil "dfu-util -D, $((SLOT / 1024)) KiB at $SLOT_AT (slot)" emulated "$W/slot_old.bin" \
    dfu-util -a 0 -s "$SLOT_AT" -D "$W/slot_new.bin"
row write_one_sector_raw "h7dfu write, raw image, one sector changed" emulated "$W/old.bin" \
    "$H7" -q write -s 0x08020000 "$W/one.bin"

if [ $SHORT = 0 ]; then
    # The demo app padded to 1 MiB, stamped: v1 on the board; v2 differs in
    # one body sector (the fourth); v3 everywhere after the app's code.
    arm-none-eabi-objcopy -O binary "$FW/demo-app.elf" "$W/app.bin"
    app=$(wc -c <"$W/app.bin")
    pad=$((SIZE - app))
    cp "$W/app.bin" "$W/b1.bin"
    head -c "$pad" /dev/urandom >>"$W/b1.bin"
    cp "$W/b1.bin" "$W/b2.bin"
    head -c "$SECTOR" /dev/urandom | dd of="$W/b2.bin" bs="$SECTOR" seek=3 conv=notrunc 2>/dev/null
    cp "$W/app.bin" "$W/b3.bin"
    head -c "$pad" /dev/urandom >>"$W/b3.bin"
    "$H7" image stamp -V 1.0.0 -s 0x08020000 "$W/b1.bin" "$W/v1.hex"
    "$H7" image stamp -V 1.0.1 -s 0x08020000 "$W/b2.bin" "$W/v2.bin"
    "$H7" image stamp -V 1.0.1 -s 0x08020000 "$W/b2.bin" "$W/v2.hex"
    "$H7" image stamp -V 1.1.0 -s 0x08020000 "$W/b3.bin" "$W/v3.hex"
    # (the board holds v1's body without its record, so it waits in DFU
    # mode for the write; the record append costs the same either way)
    row write_one_sector_stamped "h7dfu write, stamped image, one body sector changed" \
        emulated "$W/b1.bin" "$H7" -q write "$W/v2.bin"
    row update_stamped_one_sector "h7dfu update, one body sector changed (whole cycle)" \
        emulated "$W/v1.hex" "$H7" -q update "$W/v2.hex"
    row update_stamped_full "h7dfu update, every body sector changed (whole cycle)" \
        emulated "$W/v1.hex" "$H7" -q update "$W/v3.hex"
    row write_1m_h7dfu_max "h7dfu write, maximum flash times" max "$W/old.bin" \
        "$H7" -q write -s 0x08020000 "$W/new.bin"
    row write_1m_dfuutil_max "dfu-util -D, maximum flash times" max "$W/old.bin" \
        dfu-util -a 0 -s 0x08020000 -D "$W/new.bin"
fi

# Physical bounds (DS12110 typical x64: a 128 KiB sector erase 1 s, a
# 32-byte word 100 us; a sector is 1 + 4096 x 100e-6 = 1.41 s; the USB time
# of its 64 blocks, about 0.13 s at full speed, is below it): one controller
# does every sector in turn; both banks busy at once, the larger bank's
# sectors in turn (bank 2 from 0x08100000, sector 8).
bounds() { # KEY SECTORS_BANK1 SECTORS_BANK2
    awk -v k="$1" -v b1="$2" -v b2="$3" 'BEGIN { per = 1 + 4096 * 100e-6
        printf "  \"%s_one_bank\": {\"seconds\": %.4f},\n  \"%s_two_banks\": {\"seconds\": %.4f}", k, (b1 + b2) * per, k, (b1 > b2 ? b1 : b2) * per }'
}
s1=$(((SIZE + SECTOR - 1) / SECTOR))
b1=$((s1 < 7 ? s1 : 7))
if [ $SHORT = 1 ]; then sb1=1 sb2=1; else sb1=7 sb2=7; fi
b_img=$(bounds bound_1m "$b1" $((s1 - b1)))
b_slot=$(bounds bound_slot "$sb1" "$sb2")
printf '{\n  "image_bytes": %d,\n  "slot_bytes": %d,\n%s,\n%s,\n%s\n}\n' "$SIZE" "$SLOT" "$json_rows" \
    "$b_img" "$b_slot" >"$JSON"
echo "bounds: $(printf '%s %s' "$b_img" "$b_slot" | tr -d '\n' | sed 's/  */ /g')"
python3 - "$JSON" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
s = lambda k: d[k]["seconds"] if k in d else None
def ratio(name, a, b, target):
    if s(a) is None or s(b) is None:
        return
    r = s(a) / s(b)
    print("  %-58s %5.2f (target <= %.2f)" % (name, r, target))
print("ratios (modeled):")
ratio("h7dfu 1 MiB / two-bank bound", "write_1m_h7dfu", "bound_1m_two_banks", 1.05)
ratio("h7dfu 1 MiB / dfu-util, same emulated bootloader", "write_1m_h7dfu", "write_1m_dfuutil", 0.9)
ratio("h7dfu 1 MiB / dfu-util on ST's ROM", "write_1m_h7dfu", "write_1m_dfuutil_rom", 0.5)
ratio("h7dfu slot / dfu-util slot", "write_slot_h7dfu", "write_slot_dfuutil", 0.55)
ratio("stamped one sector / raw one sector", "write_one_sector_stamped", "write_one_sector_raw", 1.15)
ratio("update one sector / update full", "update_stamped_one_sector", "update_stamped_full", 1.0)
EOF
echo "written: $JSON"
