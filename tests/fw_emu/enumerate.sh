#!/bin/sh
# The bootloader binary on the emulated chip enumerates as ST's DfuSe device
# with the chip's unique ID as serial, seen by unmodified dfu-util and lsusb.
. "$(dirname "$0")/lib.sh"
chip -- dfu-util -l >"$dir/l" 2>&1 || { cat "$dir/l"; fail "dfu-util -l"; }
expect_words "dfu-util -l" "$dir/l" "Found DFU: [0483:df11]" "serial=\"$serial\"" \
    "@Internal Flash  /0x081E0000/"
chip -- lsusb -v -d 0483:df11 >"$dir/u" 2>&1 || { cat "$dir/u"; fail "lsusb"; }
expect_words "lsusb" "$dir/u" "idVendor           0x0483" "bInterfaceClass       254"
echo "enumerate OK"
