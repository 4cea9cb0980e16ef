#!/bin/sh
# Signed images on the host side: `image stamp -k`, `image sign` and
# `image info -k` hold a signed image to the signed bootloader's slot,
# sectors 1..13 (flash_map_stm32h743_signed: sector 14, 0x081C0000, holds its
# security counter log). An application that fits sectors 1..14 but not
# 1..13 is stamped unsigned, refused signed (exit 3, no output); one signed
# anyway (openssl) is INVALID for `image info -k` and refused by the signed
# board's layout (exit 5). `image sign` without -c keeps the security
# counter of a signed input.
. "$(dirname "$0")/lib.sh"

"$h7dfu" -q key generate "$dir/key.pem" || fail "key generate"
"$h7dfu" -q key generate "$dir/other.pem" || fail "key generate (other)"
"$h7dfu" -q key public "$dir/key.pem" "$dir/pub.pem" || fail "key public"

S=131072 # a sector
# body NAME BYTES: an application of BYTES at 0x08020000 (valid vectors).
body() {
    python3 - "$dir/$1.bin" "$2" <<'PY' || fail "making $1"
import random, struct, sys
b = bytearray(random.Random(5).randbytes(int(sys.argv[2])))
struct.pack_into("<II", b, 0, 0x20020000, 0x08020000 + 0x201)
open(sys.argv[1], "wb").write(b)
PY
}
body big $((13 * S + 4096)) # fits sectors 1..14, not 1..13
body edge $((13 * S - 64))  # its body fits 1..13, its trailer does not
body fits $((13 * S - 128)) # body and trailer end at 0x081BFFFF

# stamp_refused NAME ARGS...: exit 3, the slot named, no output file.
stamp_refused() {
    _n="$1"
    shift
    rm -f "$dir/out.bin"
    "$h7dfu" image "$@" "$dir/out.bin" >"$dir/out" 2>"$dir/err"
    rc=$?
    expect_rc 3 "$_n"
    expect_words "$_n" "$dir/err" "do not fit the signed bootloader's slot 0x08020000..0x081bffff" \
        "sector 14 (0x081c0000) holds its security counter log"
    [ ! -e "$dir/out.bin" ] || fail "$_n: refused but wrote the output"
}

# Unsigned: sectors 1..14 are the slot.
"$h7dfu" -q image stamp -V 1.0.0 -s 0x08020000 "$dir/big.bin" "$dir/big-u.bin" ||
    fail "unsigned stamp of 13 sectors + 4 KiB"
"$h7dfu" image info "$dir/big-u.bin" >"$dir/out" 2>&1 || { cat "$dir/out"; fail "info big-u"; }
expect_words "info big-u" "$dir/out" "status      valid"
# Signed: refused, stamp and sign alike, and for the trailer alone.
stamp_refused "stamp -k big" stamp -V 1.0.0 -k "$dir/key.pem" -s 0x08020000 "$dir/big.bin"
stamp_refused "sign big-u" sign -k "$dir/key.pem" "$dir/big-u.bin"
stamp_refused "stamp -k edge" stamp -V 1.0.0 -k "$dir/key.pem" -s 0x08020000 "$dir/edge.bin"
"$h7dfu" -q image stamp -V 1.0.0 -k "$dir/key.pem" -c 5 -s 0x08020000 "$dir/fits.bin" \
    "$dir/fits-s.bin" || fail "stamp -k of an image that ends at 0x081BFFFF with its trailer"
"$h7dfu" image info -k "$dir/pub.pem" "$dir/fits-s.bin" >"$dir/out" 2>&1 ||
    { cat "$dir/out"; fail "info -k fits-s"; }
expect_words "info -k fits-s" "$dir/out" "verifies with the key" "status      valid"

# big-u signed anyway (openssl over the record, the trailer's first half as
# fits-s.bin has it, and the body): a correct signature, a body too large.
if command -v openssl >/dev/null; then
    python3 - "$dir" <<'PY' || fail "signing big-u.bin with openssl"
import struct, subprocess, sys
d = sys.argv[1]
u = open(f"{d}/big-u.bin", "rb").read()
s = open(f"{d}/fits-s.bin", "rb").read()
rec, body = u[:64], u[64:]
head = s[64 + struct.unpack_from("<I", s, 0x14)[0]:][:64]
assert head[:4] == b"H7SG"
open(f"{d}/msg", "wb").write(rec + head + body)
der = subprocess.run(["openssl", "dgst", "-sha256", "-sign", f"{d}/key.pem", f"{d}/msg"],
                     check=True, capture_output=True).stdout
# SEQUENCE { INTEGER r, INTEGER s }
assert der[0] == 0x30
i, rs = 2 if der[1] < 0x80 else 3, b""
for _ in range(2):
    assert der[i] == 0x02
    n = der[i + 1]
    rs += der[i + 2:i + 2 + n].lstrip(b"\0").rjust(32, b"\0")
    i += 2 + n
open(f"{d}/big-s.bin", "wb").write(rec + body + head + rs)
PY
    "$h7dfu" image info "$dir/big-s.bin" >"$dir/out" 2>&1 || { cat "$dir/out"; fail "info big-s"; }
    expect_words "info big-s" "$dir/out" "security counter 5 (not checked: give -k KEY)" \
        "too large for a signed bootloader: 1708160 bytes with the trailer, a signed bootloader's slot holds 1703936" \
        "status      valid"
    "$h7dfu" image info -k "$dir/pub.pem" "$dir/big-s.bin" >"$dir/out" 2>&1
    rc=$?
    expect_rc 3 "info -k big-s"
    expect_words "info -k big-s" "$dir/out" "status      INVALID: image size out of slot" \
        "security counter 5: not checked: 1708160 bytes with the trailer"
    # the JSON verdict too
    "$h7dfu" --json image info -k "$dir/pub.pem" "$dir/big-s.bin" >"$dir/out" 2>&1
    rc=$?
    expect_rc 3 "info -k --json big-s"
    expect_words "info -k --json big-s" "$dir/out" '"valid":false' '"check":"image size out of slot"'
    # The signed board's layout keeps sector 14: nothing is written.
    "$sim" --fast --signing-key "$dir/pub.pem" --flash "$fl" run -- \
        "$h7dfu" write -s 0x08020000 "$dir/big-s.bin" >"$dir/out" 2>"$dir/err"
    rc=$?
    expect_rc 5 "write of big-s to the signed board"
    expect_words "write of big-s" "$dir/err" "falls in sector 14 (0x081c0000"
else
    echo "the openssl-signed image skipped: openssl is not installed"
fi

# image sign without -c keeps the counter of a signed input; -c replaces it;
# an unsigned input gets 0.
# counter FILE WANT: image info shows security counter WANT.
counter() {
    "$h7dfu" image info -k "$dir/pub.pem" "$1" >"$dir/out" 2>&1 || { cat "$dir/out"; fail "info $1"; }
    expect_words "counter of $1" "$dir/out" "security counter $2: verifies with the key"
}
body small 8192
"$h7dfu" -q image stamp -V 2.0.0 -s 0x08020000 "$dir/small.bin" "$dir/u.hex" || fail "stamp"
"$h7dfu" -q image stamp -V 2.0.0 -k "$dir/other.pem" -c 7 -s 0x08020000 "$dir/small.bin" \
    "$dir/o7.hex" || fail "stamp -k other -c 7"
"$h7dfu" image sign -k "$dir/key.pem" "$dir/o7.hex" "$dir/k7.hex" >"$dir/out" 2>"$dir/err" ||
    { cat "$dir/err"; fail "sign o7 without -c"; }
expect_words "sign o7" "$dir/err" "security counter 7"
counter "$dir/k7.hex" 7
"$h7dfu" -q image stamp -V 2.0.0 -k "$dir/key.pem" -c 7 -s 0x08020000 "$dir/small.bin" \
    "$dir/s7.hex" || fail "stamp -k -c 7"
cmp -s "$dir/k7.hex" "$dir/s7.hex" || fail "sign without -c differs from stamp -k -c 7"
"$h7dfu" -q image sign -k "$dir/key.pem" -c 9 "$dir/o7.hex" "$dir/k9.hex" || fail "sign -c 9"
counter "$dir/k9.hex" 9
"$h7dfu" -q image sign -k "$dir/key.pem" -c 0 "$dir/k9.hex" "$dir/k0.hex" || fail "sign -c 0"
counter "$dir/k0.hex" 0
"$h7dfu" -q image sign -k "$dir/key.pem" "$dir/u.hex" "$dir/ku.hex" || fail "sign unsigned"
counter "$dir/ku.hex" 0
"$h7dfu" -q image sign -k "$dir/key.pem" "$dir/k9.hex" "$dir/k9b.bin" || fail "sign k9 (to .bin)"
counter "$dir/k9b.bin" 9
echo OK
