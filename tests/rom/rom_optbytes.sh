#!/bin/sh
# Option bytes through the ROM's "@Option Bytes" alternate setting: read and
# decoded; --set + --write --yes changes the ROM's store (the device resets);
# rdp=2 is refused and nothing changes.
. "$(dirname "$0")/lib.sh"

h7 --boot0 -- option-bytes
expect_rc 0 "read option bytes"
expect_words "decoded" "$dir/out" "0xaa: level 0" "BOOT0=0   0x08000000" "BOOT0=1   0x1ff00000" \
    "bank 1 sectors none"

# Not confirmed: nothing written.
h7 --boot0 -- option-bytes --set boot0=0x08020000 --write </dev/null
expect_rc 2 "write without --yes"
h7 --boot0 -- option-bytes --set boot0=0x08020000 --write --yes
expect_rc 0 "write boot0"
expect_words "write" "$dir/err" "option bytes applied" "system reset"
expect_words "write" "$dir/out" "0x08020000"
cp "$fl.ob" "$dir/ob.after"
# The store changed: read again in a new run (option bytes kept in $fl.ob).
h7 --boot0 -- option-bytes
expect_words "re-read" "$dir/out" "BOOT0=0   0x08020000" "BOOT0=1   0x1ff00000"
# And the board now boots from BOOT_ADD0 = 0x08020000 with BOOT0 low.
rom -- true 2>"$dir/err"
expect_words "boot address" "$dir/err" "BOOT_ADD0 = 0x08020000"

h7 --boot0 -- option-bytes --set rdp=2 --write --yes
expect_rc 2 "rdp=2"
expect_words "rdp=2" "$dir/err" "rdp=2" "nothing was written"
no_words "rdp=2" "$dir/err" "option bytes applied"
cmp "$fl.ob" "$dir/ob.after" || fail "rdp=2 changed the option bytes"

# WRP: a protected sector is refused by the ROM (errTARGET), reported decoded.
h7 --boot0 -- option-bytes --set wrp=0x02 --write --yes
expect_rc 0 "wrp sector 1"
h7 --boot0 -- option-bytes
expect_words "wrp" "$dir/out" "bank 1 sectors 1"
app_image "$dir/a.bin" 4096
h7 --boot0 -- write -s 0x08020000 "$dir/a.bin"
expect_rc 6 "write into a write-protected sector"
expect_words "wrp write" "$dir/err" "errTARGET"
echo OK
