#!/bin/sh
# h7dfu write in every image format, each read back byte for byte with
# h7dfu read: raw binary (-s), Intel HEX, S-record and ELF made by the ARM
# binutils, DfuSe .dfu and Intel HEX made by `h7dfu read`.
. "$(dirname "$0")/lib.sh"
objcopy="${OBJCOPY:-arm-none-eabi-objcopy}"
ld="${ARM_LD:-arm-none-eabi-ld}"
if ! command -v "$objcopy" >/dev/null || ! command -v "$ld" >/dev/null; then
    echo "SKIP: $objcopy / $ld not found"
    exit 77
fi

# write_and_check FILE ADDR SRC FORMAT [WRITE-ARGS]: write FILE (h7dfu must
# detect FORMAT), read ADDR:size(SRC) back, compare with SRC.
write_and_check() {
    f="$1" a="$2" src="$3" fmt="$4"
    shift 4
    n=$(wc -c <"$src")
    h7 write "$@" "$f"
    expect_rc 0 "write $f"
    expect_words "write $f" "$dir/err" "($fmt, $n bytes at $a" "wrote " "verified"
    h7 -q read --force "$a:$n" "$dir/back.bin"
    expect_rc 0 "read back $f"
    cmp "$src" "$dir/back.bin" || fail "$f: read back differs"
    readback "$a" "$src"
}

# Raw binary at an address given with -s (70000 bytes: spans a block boundary
# and ends mid flash word).
rand "$dir/a.bin" 70000
write_and_check "$dir/a.bin" 0x08020000 "$dir/a.bin" bin -s 0x08020000

# Intel HEX, S-record, ELF from objcopy/ld.
rand "$dir/b.bin" 9000
"$objcopy" -I binary -O ihex --change-addresses 0x08040000 "$dir/b.bin" "$dir/b.hex" || fail objcopy
write_and_check "$dir/b.hex" 0x08040000 "$dir/b.bin" ihex

rand "$dir/c.bin" 5001
"$objcopy" -I binary -O srec --change-addresses 0x08060000 "$dir/c.bin" "$dir/c.srec" || fail objcopy
write_and_check "$dir/c.srec" 0x08060000 "$dir/c.bin" srec

# An S-record file without a termination record (what srec_cat writes from
# a binary by default): written, with a warning naming the last line.
rand "$dir/c2.bin" 3000
"$objcopy" -I binary -O srec --change-addresses 0x08070000 "$dir/c2.bin" "$dir/c2.full" ||
    fail objcopy
grep -v '^S[789]' "$dir/c2.full" >"$dir/c2.srec"
lines=$(wc -l <"$dir/c2.srec")
h7 write "$dir/c2.srec"
expect_rc 0 "write an S-record file without termination"
expect_words "srec without termination" "$dir/err" "warning" "termination" "line $lines" \
    "(srec, 3000 bytes at 0x08070000" "verified"
h7 -q read --force 0x08070000:3000 "$dir/back.bin"
expect_rc 0 "read back the S-record file without termination"
cmp "$dir/c2.bin" "$dir/back.bin" || fail "srec without termination: read back differs"

rand "$dir/d.bin" 12345
printf 'ENTRY(_start)\nSECTIONS { _start = 0x08080001; . = 0x08080000; .data : { *(.data) } }\n' >"$dir/fw.ld"
"$objcopy" -I binary -O elf32-littlearm -B arm "$dir/d.bin" "$dir/d.o" || fail objcopy
"$ld" -T "$dir/fw.ld" -o "$dir/d.elf" "$dir/d.o" || fail ld
write_and_check "$dir/d.elf" 0x08080000 "$dir/d.bin" elf

# DfuSe .dfu and Intel HEX written by h7dfu read: read the raw image back into
# them, erase the sector, write them, compare.
for ext in dfu hex; do
    h7 -q read --force 0x08020000:70000 "$dir/a.$ext"
    expect_rc 0 "read into .$ext"
    h7 -q erase 0x08020000:70000
    expect_rc 0 "erase before .$ext"
    h7 -q read --force 0x08020000:70000 "$dir/e.bin"
    expect_rc 0 "read after erase"
    erased "$dir/e.bin" 70000 || fail "erase 0x08020000:70000 left data"
    [ $ext = dfu ] && fmt=dfuse || fmt=ihex
    write_and_check "$dir/a.$ext" 0x08020000 "$dir/a.bin" "$fmt"
done
head -c 5 "$dir/a.dfu" | grep -q DfuSe || fail "read .dfu: no DfuSe prefix"
head -c 1 "$dir/a.hex" | grep -q : || fail "read .hex: not Intel HEX"
# -f forces the format: the .hex file written as raw bytes is its text.
h7 write -f bin -s 0x080a0000 "$dir/b.hex"
expect_rc 0 "write -f bin"
h7 -q read "0x080a0000:$(wc -c <"$dir/b.hex")" "$dir/back.txt"
expect_rc 0 "read back -f bin"
cmp "$dir/b.hex" "$dir/back.txt" || fail "-f bin: read back differs"
readback 0x080a0000 "$dir/b.hex"
echo OK
