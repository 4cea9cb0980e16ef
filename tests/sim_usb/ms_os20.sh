#!/bin/sh
# Microsoft OS 2.0 descriptors (docs/windows.md) of the bootloader in DFU mode
# and of the running application (HID + DFU run-time), read through libusb
# and checked against the specification by ms_os20_check, and shown by
# unmodified `lsusb -v` (Binary Object Store with the MS OS 2.0 platform
# capability).
#   ms_os20.sh SIM H7DFU MS_OS20_CHECK
# With H7_FW_ELF set (tests/fw_emu: SIM is sim_fw.sh) the application is the
# real demo application on the emulated chip.
. "$(dirname "$0")/../e2e/lib.sh"
check="$3"
BL_GUID="{FF3587CE-4518-40C8-B597-2CF6F84B3BE8}"
APP_GUID="{9E26F7B6-ED75-4D5B-916C-5292D522C82E}"

# lsusb_bos WHAT VID:PID: lsusb -v shows the BOS and the MS OS 2.0 platform
# capability.
lsusb_bos() {
    board lsusb -v -d "$2" >"$dir/u" 2>&1 || { cat "$dir/u"; fail "$1: lsusb -v"; }
    expect_words "$1: lsusb -v" "$dir/u" "bcdUSB               2.01" "Binary Object Store Descriptor"
    grep -qi "D8DD60DF-4589-4CC7-9CD2-659D9E648A9F" "$dir/u" || {
        cat "$dir/u"
        fail "$1: lsusb -v does not show the MS OS 2.0 platform capability UUID"
    }
    sed -n '/Binary Object Store/,$p' "$dir/u"
}

# 1. The bootloader (empty board: DFU mode): WINUSB for the whole device.
board "$check" 0483:df11 "$BL_GUID" >"$dir/c" 2>&1 || { cat "$dir/c"; fail "bootloader"; }
cat "$dir/c"
expect_words "bootloader" "$dir/c" "WINUSB for the whole device" "bMS_VendorCode 0x48"
lsusb_bos bootloader 0483:df11

# 2. The application: WINUSB for its DFU run-time interface (1) only.
if [ -n "${H7_FW_ELF:-}" ]; then
    "$h7dfu" image stamp -V 1.0.0 "$(dirname "$H7_FW_ELF")/demo-app.elf" "$dir/app.hex" \
        >/dev/null || fail "stamp the demo application"
else
    # the native board runs its own application when the record validates
    printf '\000\000\002\040\001\001\002\010' >"$dir/body.bin"
    rand "$dir/rest.bin" 1016
    cat "$dir/rest.bin" >>"$dir/body.bin"
    "$h7dfu" image stamp -V 1.0.0 -s 0x08020000 "$dir/body.bin" "$dir/app.hex" >/dev/null ||
        fail "stamp a body"
fi
"$sim" --fast --flash "$fl" --install "$dir/app.hex" run -- true || fail "install the application"
board "$check" 0483:5750 "$APP_GUID" >"$dir/c" 2>&1 || { cat "$dir/c"; fail "application"; }
cat "$dir/c"
expect_words "application" "$dir/c" "WINUSB for the function at interface 1" "bMS_VendorCode 0x48"
lsusb_bos application 0483:5750
echo "ms_os20 OK"
