#!/bin/sh
# The h7dfu bootloader onto a board and in the field, on the virtual ROM
# board (h7dfu-sim --rom: ST's ROM, BOOT0, sector 0 as written), with the
# bootloader `make firmware` built (third argument: its directory).
#   1. First flash over USB: BOOT0 high, `h7dfu write` of bootloader.bin to
#      0x08000000, `h7dfu leave`; with BOOT0 low the board then runs the h7dfu
#      bootloader (no "@Option Bytes" alt, boot status answered), and an
#      application update through it works.
#   2. `h7dfu update-bootloader`: refuses an application image and a
#      bootloader for another chip with nothing written; replaces the
#      bootloader (via ST's ROM) and the application comes back.
#   3. A power cut inside the window (sector 0 erased, then half written):
#      nothing on USB; BOOT0 high brings the ROM, `update-bootloader --rom`
#      writes it again, and with BOOT0 low the h7dfu bootloader is back.
. "$(dirname "$0")/lib.sh"

fw="${H7_FW_DIR:-${3:-}}"
if [ ! -f "$fw/bootloader.bin" ] || [ ! -f "$fw/demo-app.elf" ]; then
    echo "SKIP: no bootloader.bin / demo-app.elf in '$fw' (make firmware)"
    exit 77
fi
command -v python3 >/dev/null || {
    echo "SKIP: python3 not installed"
    exit 77
}

# onrom [SIM OPTIONS] -- CMD...: CMD on the ROM board (flash in $fl, events on
# stderr); stdout in $dir/out, stderr in $dir/err, exit status in $rc.
onrom() {
    _or=""
    while [ "$1" != "--" ]; do
        _or="$_or $1"
        shift
    done
    shift
    # shellcheck disable=SC2086
    "$sim" --rom --fast --events --flash "$fl" $_or run -- "$@" >"$dir/out" 2>"$dir/err"
    rc=$?
}

# Bootloader variants: minor version N (a different image, so sector 0 is
# really rewritten), and one built for another chip (device 0x451).
python3 - "$fw/bootloader.bin" "$dir" <<'PY' || fail "making the bootloader variants"
import struct, sys
b = bytearray(open(sys.argv[1], "rb").read())
assert b[0x298:0x29C] == b"H7BL", "no identity in bootloader.bin"
for minor in (1, 2):
    v = bytearray(b)
    v[0x29F] = minor
    open(f"{sys.argv[2]}/bl1{minor}.bin", "wb").write(v)
v = bytearray(b)
struct.pack_into("<H", v, 0x29C, 0x451)
open(f"{sys.argv[2]}/bl_other_chip.bin", "wb").write(v)
PY
"$h7dfu" -q image stamp -V 1.0.0 "$fw/demo-app.elf" "$dir/app.bin" || fail "stamp demo-app"

# ---- 1. first flash through ST's ROM ----
onrom -- "$h7dfu" list
expect_words "erased board, BOOT0 low" "$dir/err" "INVISIBLE on USB"
onrom --boot0 -- "$h7dfu" write -s 0x08000000 "$fw/bootloader.bin"
expect_rc 0 "first flash: write through ST's ROM"
onrom --boot0 -- "$h7dfu" leave 0x08000000
expect_rc 0 "first flash: leave"
onrom -- sh -c '"$0" list && "$0" info' "$h7dfu"
expect_rc 0 "first flash: list + info with BOOT0 low"
expect_words "first flash: the h7dfu bootloader runs" "$dir/out" "h7dfu bootloader" \
    "@Internal Flash  /0x081E0000/01*128Kg/0x08020000/14*128Kg/0x08000000/01*128Ka" "boot        stay in DFU"
expect_words "first flash: sector 0 recognised" "$dir/err" "the h7dfu bootloader v1.0 in sector 0"
grep -q "Option Bytes" "$dir/out" && fail "first flash: the ROM answered, not the h7dfu bootloader"
onrom -- "$h7dfu" update -s 0x08020000 "$dir/app.bin"
expect_rc 0 "first flash: an application update through the new bootloader"
expect_words "first flash: application" "$dir/err" "application 0483:5750 serial H7SIM0001 is back"

# ---- 2. update-bootloader: refusals, then the update ----
sector_of_flash 0 "$dir/s0.before"
onrom -- "$h7dfu" update-bootloader "$fw/demo-app.bin"
expect_rc 3 "update-bootloader of an application binary"
expect_words "refused application" "$dir/err" "not an h7dfu bootloader" "nothing was written"
onrom -- "$h7dfu" update-bootloader "$fw/demo-app.elf"
expect_rc 5 "update-bootloader of an application ELF"
expect_words "refused application ELF" "$dir/err" "outside 0x08000000..0x0801ffff"
onrom -- "$h7dfu" update-bootloader "$dir/bl_other_chip.bin"
expect_rc 5 "update-bootloader for another chip"
expect_words "refused other chip" "$dir/err" "another chip (device 0x451" "nothing was written"
grep -q "system reset" "$dir/err" && fail "a refused file reset the board"
sector_of_flash 0 "$dir/s0.after"
cmp -s "$dir/s0.before" "$dir/s0.after" || fail "a refused file changed sector 0"

onrom -- "$h7dfu" update-bootloader "$dir/bl11.bin"
expect_rc 0 "update-bootloader v1.1"
expect_words "update-bootloader v1.1" "$dir/err" "WARNING: from the erase of sector 0" \
    "request ENTER_ROM_BOOTLOADER" "ST's ROM bootloader at" "and verified" \
    "the new bootloader v1.1 started the application"
sector_of_flash 0 "$dir/s0"
head -c "$(wc -c <"$dir/bl11.bin")" "$dir/s0" | cmp -s - "$dir/bl11.bin" ||
    fail "sector 0 does not hold bl11.bin"
onrom -- "$h7dfu" -j update-bootloader "$dir/bl11.bin"
expect_rc 0 "update-bootloader again (same image)"
python3 - "$dir/out" <<'PY' || fail "update-bootloader --json"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["schema"] == 1 and d["command"] == "update-bootloader" and d["ok"] is True, d
assert d["bootloader_version"] == {"major": 1, "minor": 1}, d
assert d["back"] == "application" and isinstance(d["bytes_written"], int), d
assert d["serial"] and d["path"], d
PY

# ---- 3. power cut inside the window, BOOT0 recovery ----
# The run's flash operations: 1 = the ROM's erase of sector 0, then its
# 32-byte words (the h7dfu bootloader and the application write nothing).
for cut in 1:after 200; do
    onrom --power-cut "$cut" -- "$h7dfu" update-bootloader "$dir/bl12.bin"
    [ "$rc" -ne 0 ] || fail "power cut $cut: update-bootloader reported success"
    expect_words "power cut $cut" "$dir/err" "POWER CUT at flash operation" \
        "the board went away inside the window" "BOOT0 high"
    onrom -- "$h7dfu" list
    grep -q "0483" "$dir/out" && fail "power cut $cut: the board still shows on USB"
    expect_words "power cut $cut: board dead" "$dir/err" "INVISIBLE on USB"
    onrom --boot0 -- "$h7dfu" update-bootloader --rom "$dir/bl12.bin"
    expect_rc 0 "recovery after power cut $cut: BOOT0 high, update-bootloader --rom"
    expect_words "recovery $cut" "$dir/err" "ST's ROM bootloader came back: BOOT0 is high"
    onrom -- "$h7dfu" list
    expect_rc 0 "recovery $cut: BOOT0 low"
    expect_words "recovery $cut: bootloader back" "$dir/err" \
        "the h7dfu bootloader v1.2 in sector 0" "start the application"
    # back to v1.1 for the next cut (a real rewrite of sector 0)
    onrom -- "$h7dfu" update-bootloader "$dir/bl11.bin"
    expect_rc 0 "back to v1.1 after recovery $cut"
done
echo "PASS"
