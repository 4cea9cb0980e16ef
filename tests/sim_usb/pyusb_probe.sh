#!/bin/sh
# pyusb (an independent libusb client) against the virtual board.
#   pyusb_probe.sh SIM [BOOTLOADER.bin]
# The native board has no ARM code in sector 0 unless given: BOOTLOADER.bin is
# put there with --bootloader (the emulated chip, through sim_fw.sh, has its
# own).
set -u
sim="$1"
py=/usr/bin/python3
$py -c 'import usb.core' 2>/dev/null || { echo "python3-usb missing"; exit 77; }
serial=00000000000000000A5B0001
opt=""
[ -n "${2:-}" ] && [ -z "${H7_FW_ELF:-}" ] && opt="--bootloader $2"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
# shellcheck disable=SC2086
"$sim" --fast --serial $serial --flash "$dir/fl.h7" $opt run -- \
    $py "$(dirname "$0")/pyusb_probe.py" $serial
