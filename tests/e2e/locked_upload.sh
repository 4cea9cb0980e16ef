#!/bin/sh
# The locked bootloader (h7dfu-sim --locked: core/dfu with the UPLOAD window,
# docs/production.md): memory UPLOAD refused by dfu-util and h7dfu read with
# the status in words; h7dfu write still verifies, through the CRC command
# over whole sectors (a short range is refused: locked_crc.py);
# leave does without its read-back of the slot.
. "$(dirname "$0")/lib.sh"

locked() {
    "$sim" --fast --locked --flash "$fl" run -- "$@"
}

rand "$dir/a.bin" 40000
locked "$h7dfu" write -s 0x08020000 "$dir/a.bin" >"$dir/out" 2>"$dir/err"
rc=$?
expect_rc 0 "write + verify on the locked bootloader"
flash_has "$fl" 0x08020000 "$dir/a.bin"

locked "$h7dfu" read --force 0x08020000:4096 "$dir/back.bin" >"$dir/out" 2>"$dir/err"
rc=$?
[ "$rc" -ne 0 ] || fail "h7dfu read on the locked bootloader succeeded"
expect_words "h7dfu read" "$dir/err" "errTARGET" "dfuERROR" "locked bootloader"
[ ! -s "$dir/back.bin" ] || fail "h7dfu read saved something"

if command -v dfu-util >/dev/null; then
    locked dfu-util -a 0 -s 0x08000000:0x200000 -U "$dir/up.bin" >"$dir/out" 2>&1 &&
        fail "dfu-util -U of the whole flash succeeded on the locked bootloader"
    [ "$(wc -c <"$dir/up.bin" 2>/dev/null || echo 0)" -eq 0 ] ||
        fail "dfu-util -U got flash bytes from the locked bootloader"
fi

# Nor does its CRC command answer short ranges (whole sectors and the
# record area only), through pyusb: scripts/deps.sh installs python3-usb.
/usr/bin/python3 -c 'import usb.core' 2>/dev/null ||
    fail "pyusb is not importable by /usr/bin/python3 (python3-usb: scripts/deps.sh)"
locked /usr/bin/python3 "$(dirname "$0")/locked_crc.py" >"$dir/out" 2>&1 ||
    { cat "$dir/out"; fail "locked CRC ranges"; }

# The default bootloader still reads back (the lock is the build's choice).
h7 -q read --force 0x08020000:40000 "$dir/back.bin"
expect_rc 0 "read on the default bootloader"
cmp "$dir/a.bin" "$dir/back.bin" || fail "read-back differs"
# leave: the slot check cannot read the slot; the bootloader checks it.
printf '\000\000\002\040\001\001\002\010' | dd of="$dir/a.bin" conv=notrunc 2>/dev/null
"$h7dfu" image stamp -V 1.0.0 -s 0x08020000 "$dir/a.bin" "$dir/a.hex" >/dev/null 2>&1 || fail "stamp"
locked sh -c "\"$h7dfu\" -q write \"$dir/a.hex\" && \"$h7dfu\" leave" >"$dir/out" 2>"$dir/err"
rc=$?
expect_rc 0 "write + leave on the locked bootloader"
expect_words "leave" "$dir/err" "a locked build" "the application started"

echo OK
