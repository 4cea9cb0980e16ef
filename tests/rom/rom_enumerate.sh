#!/bin/sh
# The ROM board enumerates as ST's H743 system bootloader (AN2606/AN3156):
# strings and descriptor fields as lsusb and dfu-util show them; and the
# H74x's missing empty-flash check: erased flash with BOOT0 low = invisible.
. "$(dirname "$0")/lib.sh"
command -v dfu-util >/dev/null || { echo "SKIP: dfu-util not found"; exit 77; }

rom --boot0 -- dfu-util -l >"$dir/l.txt" 2>&1 || fail "dfu-util -l"
expect_words "dfu-util -l" "$dir/l.txt" "Found DFU: [0483:df11] ver=0200" \
    'alt=0, name="@Internal Flash   /0x08000000/16*128Kg"' \
    'alt=1, name="@Option Bytes   /0x5200201C/01*128 e"' \
    "BOOT0 high, BOOT_ADD1 = 0x1ff00000 -> ST's ROM bootloader"
# ST's serial format: 12 upper-case hex digits, not the application's serial.
grep -Eq 'serial="[0-9A-F]{12}"' "$dir/l.txt" || { cat "$dir/l.txt"; fail "serial format"; }
no_words "dfu-util -l" "$dir/l.txt" 'serial="H7SIM0001"'

if command -v lsusb >/dev/null; then
    rom --boot0 -- lsusb -v -d 0483:df11 >"$dir/v.txt" 2>&1 || fail "lsusb -v"
    expect_words "lsusb -v" "$dir/v.txt" "bcdDevice            2.00" "STMicroelectronics" \
        "DFU in FS Mode" "wTransferSize                    1024 bytes" "bcdDFUVersion                   1.1a" \
        "wDetachTimeout                    255 milliseconds" "Will Detach"
fi

# h7dfu sees the same, and recognises the option-byte alternate setting.
h7 --boot0 -- list
expect_rc 0 "h7dfu list"
expect_words "h7dfu list" "$dir/out" "0483:df11" "DFU in FS Mode" "@Option Bytes"

# Erased flash, BOOT0 low: no empty check on the H74x -> nothing on USB.
h7 -- list
expect_words "empty flash, BOOT0 low" "$dir/err" "INVISIBLE on USB"
grep -q "0483:df11" "$dir/out" && fail "empty flash with BOOT0 low must not show the ROM"
echo OK
