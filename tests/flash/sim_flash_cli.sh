#!/bin/sh
# `h7dfu-sim flash dump|poke|protect|info` on a flash file, no board run but
# the last: bytes put with poke read back with dump (to a file and to stdout),
# only the words they touch marked programmed, the other bytes of a word kept;
# protection set and cleared; a board loads the file the helper wrote; bad
# arguments exit 2, a missing or foreign file 1.
#   sim_flash_cli.sh SIM
set -u
sim="$1"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fl="$dir/flash.h7"
fail() {
    echo "FAIL: $*"
    exit 1
}
# rc WANT CMD...: CMD exits with WANT.
rc() {
    _want=$1
    shift
    "$@" >"$dir/out" 2>"$dir/err"
    _rc=$?
    [ "$_rc" -eq "$_want" ] || {
        cat "$dir/out" "$dir/err"
        fail "$*: exit $_rc, want $_want"
    }
}
hex() { od -An -tx1 -v "$1" | tr -d ' \n'; }

rc 1 "$sim" flash dump "$fl" 0x08000000 16
rc 1 "$sim" flash info "$fl"
# poke into a missing file: an erased flash with 5 bytes in the middle of a word
rc 0 "$sim" flash poke "$fl" 0x08020010 0123456789
rc 0 "$sim" flash dump "$fl" 0x08020000 32 "$dir/w.bin"
[ "$(hex "$dir/w.bin")" = "ffffffffffffffffffffffffffffffff0123456789ffffffffffffffffffffff" ] ||
    fail "dump after poke: $(hex "$dir/w.bin")"
"$sim" flash dump "$fl" 0x08020000 32 | cmp - "$dir/w.bin" || fail "dump to stdout differs"
rc 0 "$sim" flash info "$fl"
grep -qx "write protected: none" "$dir/out" || fail "info: protection"
grep -qx "sector 1 0x08020000: 1 programmed, 0 ECC-corrupt words" "$dir/out" || fail "info: 1 word"
# @FILE across word boundaries: three more words; the last byte of the flash
head -c 40 /dev/urandom >"$dir/in.bin"
rc 0 "$sim" flash poke "$fl" 0x0802003c "@$dir/in.bin"
rc 0 "$sim" flash dump "$fl" 0x0802003c 40 "$dir/back.bin"
cmp "$dir/in.bin" "$dir/back.bin" || fail "poke @FILE: dump differs"
rc 0 "$sim" flash poke "$fl" 0x081fffff a5
rc 0 "$sim" flash dump "$fl" 0x081fffff 1 "$dir/last.bin"
[ "$(hex "$dir/last.bin")" = a5 ] || fail "last byte"
rc 0 "$sim" flash info "$fl"
grep -qx "sector 1 0x08020000: 4 programmed, 0 ECC-corrupt words" "$dir/out" || fail "info: 4 words"
grep -qx "sector 15 0x081e0000: 1 programmed, 0 ECC-corrupt words" "$dir/out" || fail "info: sector 15"
# protection
rc 0 "$sim" flash protect "$fl" 3 on
rc 0 "$sim" flash protect "$fl" 15 on
rc 0 "$sim" flash info "$fl"
grep -qx "write protected: 3 15" "$dir/out" || fail "info: protected 3 15"
rc 0 "$sim" flash protect "$fl" 15 off
rc 0 "$sim" flash info "$fl"
grep -qx "write protected: 3" "$dir/out" || fail "info: protected 3"
# the board loads what the helper saved, and saves it again unchanged
cp "$fl" "$dir/before.h7"
rc 0 "$sim" --flash "$fl" run -- true
cmp "$fl" "$dir/before.h7" || fail "a board run changed the file"
# refusals
rc 2 "$sim" flash dump "$fl" 0x081ffff0 17
rc 2 "$sim" flash dump "$fl" 0x07ffffff 1
rc 2 "$sim" flash dump "$fl" 0x08000000 -1
rc 2 "$sim" flash poke "$fl" 0x081fffff a5a5
rc 2 "$sim" flash poke "$fl" 0x08000000 abc
rc 2 "$sim" flash poke "$fl" 0x08000000 0x12
rc 2 "$sim" flash protect "$fl" 16 on
rc 2 "$sim" flash protect "$fl" 1 yes
rc 2 "$sim" flash frobnicate "$fl"
rc 2 "$sim" flash
cmp "$fl" "$dir/before.h7" || fail "a refused command changed the file"
rc 1 "$sim" flash poke "$fl" 0x08000000 "@$dir/nonexistent"
printf 'not a flash file' >"$dir/other.h7"
rc 1 "$sim" flash dump "$dir/other.h7" 0x08000000 1
rc 1 "$sim" flash poke "$dir/other.h7" 0x08000000 00
[ "$(cat "$dir/other.h7")" = "not a flash file" ] || fail "poke changed a foreign file"
rc 0 "$sim" flash --help
grep -q "flash dump FILE ADDR LEN" "$dir/out" || fail "flash --help"
rc 0 "$sim" --help
grep -q "flash dump FILE ADDR LEN" "$dir/out" || fail "--help does not show flash dump"
echo OK
