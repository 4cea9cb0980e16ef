#!/bin/sh
# A signed bootloader (h7dfu-sim --signing-key: the bootloader's own C code
# with signatures required, core/boot/boot_sig.h) through libusb: an image
# signed with its key starts; unsigned, wrong-key, tampered header, body,
# signature and counter images are refused with the reason, and the board
# stays in DFU mode; an image with a lower security counter than the last
# started one is refused ("security counter lower"), the same counter and
# higher ones start. Keys from `h7dfu key`, read by openssl too.
. "$(dirname "$0")/lib.sh"

sboard() {
    "$sim" --fast --signing-key "$dir/pub.pem" --flash "$fl" run -- "$@"
}
# sh7 ARGS...: h7dfu under the signed board (out, err, rc as h7).
sh7() {
    sboard "$h7dfu" "$@" >"$dir/out" 2>"$dir/err"
    rc=$?
}

"$h7dfu" -q key generate --test "$dir/test-key.pem" || fail "key generate"
"$h7dfu" -q key generate "$dir/other.pem" || fail "key generate (other)"
"$h7dfu" -q key public "$dir/test-key.pem" "$dir/pub.pem" || fail "key public"
if command -v openssl >/dev/null; then
    openssl ec -in "$dir/test-key.pem" -pubout -out "$dir/ossl.pem" 2>/dev/null ||
        fail "openssl does not read the generated key"
    # the same public key: openssl's PEM equals h7dfu's (after the marker)
    grep -v "TEST KEY" "$dir/pub.pem" | cmp -s - "$dir/ossl.pem" ||
        fail "h7dfu key public and openssl ec -pubout differ"
fi
"$h7dfu" key generate "$dir/other.pem" >"$dir/out" 2>"$dir/err" && fail "key generate overwrote a file"

python3 - "$dir/body.bin" <<'PY' || fail "making the application body"
import random, struct, sys
body = bytearray(random.Random(11).randbytes(8192))
struct.pack_into("<II", body, 0, 0x20020000, 0x08020000 + 0x201)
open(sys.argv[1], "wb").write(body)
PY
stamp() { # stamp OUT ARGS...
    _o="$1"
    shift
    "$h7dfu" -q image stamp -V 1.0.0 -s 0x08020000 "$@" "$dir/body.bin" "$dir/$_o.bin" ||
        fail "stamp $_o"
}
stamp good -k "$dir/test-key.pem" -c 5
stamp unsigned
stamp wrongkey -k "$dir/other.pem" -c 5
stamp low -k "$dir/test-key.pem" -c 4
"$h7dfu" -q image sign -k "$dir/test-key.pem" -c 5 "$dir/unsigned.bin" "$dir/resigned.bin" ||
    fail "image sign"
cmp -s "$dir/good.bin" "$dir/resigned.bin" || fail "image sign differs from image stamp -k"

# Tampered copies of good.bin (the 64-byte record, then the body and the
# 128-byte trailer), CRCs recomputed: only the signature can catch them.
python3 - "$dir" <<'PY' || fail "making the tampered images"
import struct, sys, zlib
d = sys.argv[1]
good = open(f"{d}/good.bin", "rb").read()
size = struct.unpack_from("<I", good, 0x14)[0]
tr = 0x40 + size
def variant(name, at, crcs=True):
    b = bytearray(good)
    b[at] ^= 0x01
    if crcs:
        struct.pack_into("<I", b, 0x24, zlib.crc32(bytes(b[0x40:0x40 + size])))
        struct.pack_into("<I", b, 0x3C, zlib.crc32(bytes(b[:0x3C])))
    open(f"{d}/{name}.bin", "wb").write(b)
variant("header", 0x09)            # version minor
variant("body", 0x40 + 0x300)      # a body byte
variant("signature", tr + 0x50)    # a byte of r
variant("counter", tr + 0x08)      # security counter 5 -> 4
PY

h7 image info -k "$dir/pub.pem" "$dir/good.bin"
expect_rc 0 "image info -k of the signed image"
expect_words "image info -k" "$dir/out" "security counter 5: verifies with the key"

# refused NAME REASON [board]: image info -k says REASON (not for "board":
# only the board knows its counter); a write with leave to the signed board
# ends in DFU mode with REASON from the bootloader.
refused() {
    if [ "${3:-}" != board ]; then
        h7 image info -k "$dir/pub.pem" -s 0x08020000 "$dir/$1.bin"
        expect_rc 3 "image info -k $1"
        expect_words "image info -k $1" "$dir/out" "$2"
    fi
    sboard sh -c '"$1" -q detach >/dev/null 2>&1; "$1" -w 5 write -s 0x08020000:leave "$2"' sh \
        "$h7dfu" "$dir/$1.bin" >"$dir/out" 2>"$dir/err"
    rc=$?
    expect_rc 6 "write :leave $1"
    expect_words "write :leave $1" "$dir/err" "verified" \
        "the board is back in DFU mode: its bootloader did not start the image" "slot: $2"
    sh7 info
    expect_rc 0 "info after $1"
    expect_words "info after $1" "$dir/out" "boot        stay in DFU at the last reset" "slot: $2"
}
refused unsigned "image not signed"
refused wrongkey "signed with another key"
refused header "signature does not verify"
refused body "signature does not verify"
refused signature "signature does not verify"
refused counter "signature does not verify"

# The signed image starts (its counter 5 is stored), the same image again.
sh7 -w 5 write -s 0x08020000:leave "$dir/good.bin"
expect_rc 0 "write :leave of the signed image"
expect_words "signed image" "$dir/err" "the application started"
# A lower counter: refused, the board stays in DFU mode.
refused low "security counter lower than the last started image's" board
# An unsigned bootloader starts any consistent image (no trailer checked).
board sh -c '"$1" -q detach && "$1" -w 5 write -s 0x08020000:leave "$2"' sh "$h7dfu" \
    "$dir/low.bin" >"$dir/out" 2>"$dir/err"
rc=$?
expect_rc 0 "the unsigned bootloader starts the signed image"
# Back on the signed board: counter 5 is still stored, 4 still refused.
sh7 info
expect_words "info on the signed board" "$dir/out" "slot: security counter lower"
stamp higher -k "$dir/test-key.pem" -c 6
sh7 -w 5 write -s 0x08020000:leave "$dir/higher.bin"
expect_rc 0 "write :leave of counter 6"
refused good "security counter lower than the last started image's" board

# The counter log is sector 14's (0x081C0000), reserved in the signed
# board's layout: no host can write or erase it, and it is not in sector 0.
sh7 info
expect_words "signed layout" "$dir/out" \
    "@Internal Flash  /0x081E0000/01*128Kg/0x081C0000/01*128Ka/0x08020000/13*128Kg/0x08000000/01*128Ka"
sh7 erase 0x081C0000:32
[ "$rc" -ne 0 ] || fail "erase of the counter sector accepted"
flash_dump 0x081C0000 8192 "$dir/s14.bin"
sector_of_flash 0 "$dir/s0.bin"
python3 - "$dir/s14.bin" "$dir/s0.bin" <<'PY' || fail "the counter log is not where it belongs"
import struct, sys
s14 = open(sys.argv[1], "rb").read()
entries = [struct.unpack_from("<4sII", s14, o) for o in range(0, 8192, 32)]
vals = [v for m, v, nv in entries if m == b"H7SC" and nv == (~v & 0xFFFFFFFF)]
assert vals and max(vals) == 6, vals
assert b"H7SC" not in open(sys.argv[2], "rb").read(), "a counter entry in sector 0"
PY

# With sector 0 write-protected (WRPSN, set through ST's ROM with BOOT0 high
# as docs/production.md says), the bootloader still raises the counter: the
# log is outside the protected sector. A --rom board runs the bootloader's C
# code when sector 0 holds the h7dfu bootloader (its identity).
fw="${H7_FW_DIR:-${3:-}}"
if [ -f "$fw/bootloader.bin" ]; then
    rboard() {
        "$sim" --fast --rom --signing-key "$dir/pub.pem" --flash "$fl" "$@" >"$dir/out" 2>"$dir/err"
        rc=$?
    }
    rboard --bootloader "$fw/bootloader.bin" --boot0 run -- \
        "$h7dfu" -w 5 option-bytes --set wrpsn=0x01 --write --yes
    expect_rc 0 "WRPSN sector 0 through the ROM"
    expect_words "WRPSN" "$dir/err" "sector 0 write protected"
    stamp seven -k "$dir/test-key.pem" -c 7
    rboard run -- "$h7dfu" -w 10 update "$dir/seven.bin"
    expect_rc 0 "update to counter 7 with sector 0 write-protected"
    expect_words "update to counter 7" "$dir/err" "the application"
    rboard run -- sh -c '"$1" -q detach >/dev/null 2>&1; "$1" -w 5 erase 0x08000000:32' sh "$h7dfu"
    [ "$rc" -ne 0 ] || fail "erase of sector 0 accepted"
    flash_dump 0x081C0000 8192 "$dir/s14.bin"
    python3 - "$dir/s14.bin" <<'PY' || fail "counter 7 is not stored"
import struct, sys
s14 = open(sys.argv[1], "rb").read()
vals = [struct.unpack_from("<4sII", s14, o) for o in range(0, 8192, 32)]
assert max(v for m, v, nv in vals if m == b"H7SC" and nv == (~v & 0xFFFFFFFF)) == 7
PY
else
    echo "the WRPSN case skipped: no bootloader.bin in '$fw' (make firmware)"
fi
refused higher "security counter lower than the last started image's" board
echo OK
