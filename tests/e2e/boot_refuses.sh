#!/bin/sh
# The bootloader refuses to start a stamped image whose record CRC is right
# but which is not for this board: stamped for another device id, an initial
# stack pointer outside RAM, a reset vector outside the image. h7dfu update
# refuses each file before touching the board; with --force it writes it,
# the bootloader keeps the board in DFU mode and update says so (exit 6). The
# same image with a correct header and vectors starts (the control).
# On the emulated chip (H7_FW_ELF) the application is the real demo app.
. "$(dirname "$0")/lib.sh"

if [ -n "${H7_FW_ELF:-}" ]; then
    "$h7dfu" -q image stamp -V 1.0.0 "$(dirname "$H7_FW_ELF")/demo-app.elf" "$dir/good.bin" ||
        fail "stamp demo-app"
else
    python3 - "$dir/body.bin" <<'PY' || fail "making the application body"
import random, struct, sys
body = bytearray(random.Random(7).randbytes(8192))
struct.pack_into("<II", body, 0, 0x20020000, 0x08020000 + 0x201)
open(sys.argv[1], "wb").write(body)
PY
    "$h7dfu" -q image stamp -V 1.0.0 -s 0x08020000 "$dir/body.bin" "$dir/good.bin" ||
        fail "stamp the application"
fi

# Variants of good.bin (h7dfu's stamped binary: the 64-byte record, then the
# body from the slot at 0x08020000), the body CRC and the record CRC
# recomputed so that only the one field is wrong; NAME.body is the body alone
# (what the slot holds after the update).
python3 - "$dir" <<'PY' || fail "making the refused images"
import struct, sys, zlib
d = sys.argv[1]
good = open(f"{d}/good.bin", "rb").read()
def variant(name, device=None, sp=None, reset=None):
    b = bytearray(good)
    size = struct.unpack_from("<I", b, 0x14)[0]
    if device is not None:
        struct.pack_into("<I", b, 0x18, device)
    if sp is not None:
        struct.pack_into("<I", b, 0x40, sp)
    if reset is not None:
        struct.pack_into("<I", b, 0x44, reset)
    struct.pack_into("<I", b, 0x24, zlib.crc32(bytes(b[0x40:0x40 + size])))
    struct.pack_into("<I", b, 0x3C, zlib.crc32(bytes(b[:0x3C])))
    open(f"{d}/{name}.bin", "wb").write(b)
    open(f"{d}/{name}.body", "wb").write(b[0x40:])
    return size
variant("same")  # the recomputation alone changes nothing
size = variant("device", device=0x451)
variant("sp", sp=0x30000000)
variant("reset", reset=0x08020000 + size + 0x100 + 1)
PY
cmp -s "$dir/good.bin" "$dir/same.bin" || fail "the CRC recomputation differs from h7dfu image stamp"

# refused NAME REASON: image info and update name REASON; update --force
# writes it (read back independently), and the board stays in DFU mode.
refused() {
    h7 image info -s 0x08020000 "$dir/$1.bin"
    expect_words "image info $1" "$dir/out" "$2"
    h7 update -s 0x08020000 "$dir/$1.bin"
    expect_rc 3 "update $1"
    expect_words "update $1" "$dir/err" "not an image the h7dfu bootloader would start" "$2"
    "$sim" -v --fast --flash "$fl" run -- sh -c '"$@" >"$0/out" 2>"$0/err"; echo $? >"$0/rc"' \
        "$dir" "$h7dfu" update --force --wait-app 1 -s 0x08020000 "$dir/$1.bin" 2>"$dir/sim.log" ||
        fail "sim run (update --force $1)"
    rc=$(cat "$dir/rc")
    expect_rc 6 "update --force $1"
    expect_words "update --force $1" "$dir/err" "written and verified" \
        "the board is back in DFU mode, so its bootloader refused to start the image"
    [ -n "${H7_FW_ELF:-}" ] || expect_words "update --force $1 (sim log)" "$dir/sim.log" \
        "slot: $2 -> stay in DFU mode"
    readback 0x08020000 "$dir/$1.body"
    # the bootloader says why (vendor command 0xC4): the decision, the
    # reason found in the slot, the newest record's version
    h7 info
    expect_rc 0 "info after update --force $1"
    expect_words "info after $1" "$dir/out" "boot        stay in DFU at the last reset" \
        "no valid application" "slot: $2" "newest record v1.0.0+0"
    h7 --json info
    python3 -c '
import json, sys
b = json.load(open(sys.argv[1]))["slot"]
assert b["decision"] == "stay in DFU" and b["check"] == sys.argv[2] and b["valid"] is False, b
assert b["version"] == {"major": 1, "minor": 0, "patch": 0, "build": 0, "text": "1.0.0"}, b
' "$dir/out" "$2" || { cat "$dir/out"; fail "info --json after $1: slot"; }
}
refused device "image for another device"
refused sp "initial stack pointer not in RAM"
refused reset "reset vector not a Thumb address inside the image"

h7 update -s 0x08020000 "$dir/good.bin"
expect_rc 0 "update with the good image"
expect_words "update with the good image" "$dir/err" "is back"
# write with leave of the stamped image: h7dfu waits and says the
# application started, with its version
board sh -c '"$1" -q detach && "$1" -w 5 write -s 0x08020000:leave "$2"' sh "$h7dfu" \
    "$dir/good.bin" >"$dir/out" 2>"$dir/err"
rc=$?
expect_rc 0 "detach, then write -s ADDR:leave of the stamped image"
expect_words "write :leave of the stamped image" "$dir/err" "left DFU mode" \
    "the application started" "1.0.0"
echo OK
