#!/bin/sh
# The locked bootloader binary (bootloader-locked.elf, docs/production.md) on
# the emulated chip: h7dfu write verifies through the CRC command; a read of
# the flash is refused with errTARGET.
. "$(dirname "$0")/lib.sh"
bl="$fwdir/bootloader-locked.elf"
[ -f "$bl" ] || fail "bootloader-locked.elf not built in $fwdir"

rand "$dir/a.bin" 8192
chip -- "$h7dfu" write -s 0x08020000 "$dir/a.bin" >"$dir/out" 2>&1 || {
    cat "$dir/out"
    fail "write + verify on the locked bootloader"
}
expect_words "write" "$dir/out" "verified"
flash_has "$fl" 0x08020000 "$dir/a.bin"
chip -- "$h7dfu" read --force 0x08000000:2048 "$dir/back.bin" >"$dir/out" 2>&1 &&
    fail "the locked bootloader let the host read sector 0"
expect_words "read" "$dir/out" "errTARGET" "locked bootloader"
echo "locked OK"
