#!/bin/sh
# The signed bootloader binary (bootloader-signed.elf, built with the test
# key tests/keys/test-signing-key.pem) on the emulated chip: an unsigned
# image, one signed with another key, and copies of the signed image with a
# header, body or signature byte changed (CRCs recomputed: only the signature
# catches them) are refused (the board stays in DFU mode and says why), the
# demo application signed with the built-in key starts. Prints the core
# cycles from power-on to the application's start, signed and unsigned
# bootloader, for the verification's cost. The image's security counter 3 is
# stored in sector 14 (the reset-time decision programs it through the flash
# driver's started form, polled at the reset clock) and an image with
# counter 2 is then refused; a power cut during the counter write of the next
# update loses nothing.
. "$(dirname "$0")/lib.sh"
sbl="$fwdir/bootloader-signed.elf"
key="$(dirname "$0")/../keys/test-signing-key.pem"
[ -f "$sbl" ] || { echo "SKIP: $sbl not built (no mbedtls source: scripts/fetch-mbedtls.sh)"; exit 77; }

schip() {
    "$sim" --firmware "$sbl" --serial "$serial" --fast --flash "$fl" "$@"
}
"$h7dfu" -q key generate "$dir/other.pem" || fail "key generate"
"$h7dfu" -q image stamp -V 1.0.0 "$app" "$dir/unsigned.bin" || fail "stamp"
"$h7dfu" -q image stamp -V 1.0.0 -k "$dir/other.pem" "$app" "$dir/other.bin" || fail "stamp -k other"
"$h7dfu" -q image stamp -V 1.0.0 -k "$key" -c 3 "$app" "$dir/signed.bin" || fail "stamp -k"
"$h7dfu" -q image stamp -V 1.0.0 -k "$key" -c 2 "$app" "$dir/older.bin" || fail "stamp -k -c 2"

# Tampered copies of signed.bin (the 64-byte record, then the body and the
# 128-byte trailer), made as tests/e2e/signed_images.sh makes them.
python3 - "$dir" <<'PY' || fail "making the tampered images"
import struct, sys, zlib
d = sys.argv[1]
good = open(f"{d}/signed.bin", "rb").read()
size = struct.unpack_from("<I", good, 0x14)[0]
tr = 0x40 + size
def variant(name, at):
    b = bytearray(good)
    b[at] ^= 0x01
    struct.pack_into("<I", b, 0x24, zlib.crc32(bytes(b[0x40:0x40 + size])))
    struct.pack_into("<I", b, 0x3C, zlib.crc32(bytes(b[:0x3C])))
    open(f"{d}/{name}.bin", "wb").write(b)
variant("header", 0x09)            # version minor
variant("body", 0x40 + 0x300)      # a body byte
variant("signature", tr + 0x50)    # a byte of r
PY

# The refused images one after the other in one board run: the power-on of
# a run of its own would verify the image the last one left in the slot once
# more (a signed image is verified at the leave and again at the reset).
refused="unsigned other header body signature"
schip run -- sh -c 'for n in $3; do
    "$1" -w 120 write -s 0x08020000:leave "$2/$n.bin" >"$2/$n.out" 2>&1; done' sh "$h7dfu" "$dir" \
    "$refused"
for n in $refused; do
    case $n in
    unsigned) why="image not signed" ;;
    other) why="signed with another key" ;;
    *) why="signature does not verify" ;;
    esac
    expect_words "write :leave $n" "$dir/$n.out" "the board is back in DFU mode" "slot: $why"
done
schip --events run -- "$h7dfu" -w 120 write -s 0x08020000:leave "$dir/signed.bin" >"$dir/out" 2>&1 ||
    { cat "$dir/out"; fail "write :leave of the signed image"; }
expect_words "signed image" "$dir/out" "the application started"
flash_dump 0x081C0000 8192 "$dir/s14.bin"
python3 - "$dir/s14.bin" <<'PY' || fail "counter 3 is not in the log (sector 14)"
import struct, sys
f = open(sys.argv[1], "rb").read()
e = [struct.unpack_from("<4sII", f, o) for o in range(0, 8192, 32)]
v = [c for m, c, n in e if m == b"H7SC" and n == (~c & 0xFFFFFFFF)]
assert v == [3], v
PY
schip run -- sh -c '"$1" -q detach && "$1" -w 120 write -s 0x08020000:leave "$2"' sh "$h7dfu" \
    "$dir/older.bin" >"$dir/out" 2>&1
expect_words "write :leave older" "$dir/out" "the board is back in DFU mode" \
    "slot: security counter lower than the last started image's"
schip run -- "$h7dfu" -w 120 write -s 0x08020000:leave "$dir/signed.bin" >"$dir/out" 2>&1 ||
    { cat "$dir/out"; fail "write :leave of the signed image again"; }
# A power cut while the reset-time decision programs the next counter entry
# (the last flash operation of an update to counter 4): the board comes back,
# skips the broken word, starts the image and stores 4 after it; the log
# never reads lower than 3 on the way.
"$h7dfu" -q image stamp -V 1.0.1 -k "$key" -c 4 "$app" "$dir/four.bin" || fail "stamp -c 4"
cp "$fl" "$dir/at3.h7"
upd4() {
    schip "$@" run -- sh -c '"$1" -q detach && "$1" -w 120 write -s 0x08020000:leave "$2"' sh \
        "$h7dfu" "$dir/four.bin" >"$dir/out" 2>&1
}
upd4 -v || { cat "$dir/out"; fail "update to counter 4"; }
ops=$(sed -n 's/.*flash: \([0-9]*\) operation(s).*/\1/p' "$dir/out" | tail -n 1)
[ -n "$ops" ] || { cat "$dir/out"; fail "no flash operation count"; }
cp "$dir/at3.h7" "$fl"
upd4 --power-cut "$ops:during" --events || { cat "$dir/out"; fail "update to counter 4, cut"; }
expect_words "cut in the counter write" "$dir/out" "POWER CUT at flash operation" "the application started"
python3 - "$fl" <<'PY' || fail "counter log after the cut"
import struct, sys
f = open(sys.argv[1], "rb").read()[32:]
e = [struct.unpack_from("<4sII", f, 0x1C0000 + o) for o in range(0, 8192, 32)]
valid = [c for m, c, n in e if m == b"H7SC" and n == (~c & 0xFFFFFFFF)]
used = [x for x in e if x != (b"\xff" * 4, 0xFFFFFFFF, 0xFFFFFFFF)]
# 3, the word the cut broke (its bytes may read whole: the flash keeps it
# as an ECC-corrupt word, h7dfu-sim flash info below), then 4
assert valid[0] == 3 and valid[-1] == 4 and len(valid) in (2, 3), valid
assert len(used) == 3, used
PY
"$sim" flash info "$fl" >"$dir/info" 2>&1 || fail "h7dfu-sim flash info"
expect_words "the cut word" "$dir/info" "sector 14 0x081c0000: 2 programmed, 1 ECC-corrupt words"
# Power-on to the application, signed and unsigned bootloader.
schip --events run -- true >"$dir/s.log" 2>&1
"$sim" --firmware "$bl" --serial "$serial" --fast --flash "$fl" --events run -- true >"$dir/u.log" 2>&1
s=$(sed -n 's/.*started the application.*at core cycle \([0-9]*\).*/\1/p' "$dir/s.log" | head -n 1)
u=$(sed -n 's/.*started the application.*at core cycle \([0-9]*\).*/\1/p' "$dir/u.log" | head -n 1)
[ -n "$s" ] && [ -n "$u" ] || { cat "$dir/s.log" "$dir/u.log"; fail "no application start at power-on"; }
echo "power-on to application: signed bootloader $s cycles, unsigned $u cycles;" \
    "signature check $((s - u)) cycles ($(((s - u) / 64000)) ms at the reset clock, 64 MHz HSI)"
echo "signed OK"
