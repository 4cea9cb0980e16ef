#!/bin/sh
# One libusb program, running throughout, sees the board leave and come back:
# the stamped application arrives, leaves on DFU_DETACH, and the bootloader
# arrives (the simulator's udev events drive libusb's hotplug callbacks).
#   hotplug.sh SIM H7DFU USB_HOTPLUG
set -u
sim="$1" h7dfu="$2" prog="$3"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
python3 - "$dir/body.bin" <<'PY'
import struct, sys
body = bytearray(8192)
# Initial SP and reset vector of an application linked at 0x08020000.
struct.pack_into("<II", body, 0, 0x20020000, 0x08020000 + 0x201)
open(sys.argv[1], "wb").write(body)
PY
"$h7dfu" -q image stamp -V 1.0.0 -s 0x08020000 "$dir/body.bin" "$dir/app.hex" || {
    echo "FAIL: stamp"
    exit 1
}
"$sim" --fast --flash "$dir/flash.h7" --install "$dir/app.hex" run -- "$prog" >"$dir/out" 2>&1
rc=$?
cat "$dir/out"
[ "$rc" -eq 77 ] && exit 77
[ "$rc" -eq 0 ] || { echo "FAIL: exit status $rc"; exit 1; }
# In this order: arrived app, left app, arrived bootloader.
grep -E '^(arrived|left) ' "$dir/out" | tr '\n' ' ' |
    grep -q 'arrived 0483:5750 left 0483:5750 arrived 0483:df11' || {
    echo "FAIL: events out of order"
    exit 1
}
echo PASS
