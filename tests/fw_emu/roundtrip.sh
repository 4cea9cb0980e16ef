#!/bin/sh
# dfu-util -D then -U of 64 KiB at 0x08020000 into the emulated bootloader:
# the bytes read back are the bytes written; the flash file holds them too.
. "$(dirname "$0")/lib.sh"
head -c 65536 /dev/urandom >"$dir/img.bin"
chip -- dfu-util -a 0 -s 0x08020000 -D "$dir/img.bin" >"$dir/d" 2>&1 || { cat "$dir/d"; fail "download"; }
chip -- dfu-util -a 0 -s 0x08020000:65536 -U "$dir/up.bin" >"$dir/u" 2>&1 || { cat "$dir/u"; fail "upload"; }
cmp "$dir/img.bin" "$dir/up.bin" || fail "read back differs"
flash_dump 0x08020000 65536 "$dir/fl.bin"
cmp "$dir/fl.bin" "$dir/img.bin" || fail "flash file differs"
echo "round trip OK"
