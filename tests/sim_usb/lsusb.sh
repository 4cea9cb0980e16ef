#!/bin/sh
# lsusb -v, unmodified, sees the virtual board with its strings and the DfuSe
# memory layout as the interface string.
set -u
sim="$1"
out=$("$sim" --serial 000000000000000015B00042 run -- lsusb -v -d 0483:df11 2>&1) || { echo "$out"; echo "FAIL: exit status"; exit 1; }
echo "$out"
fail=0
for want in "ID 0483:df11" "iManufacturer *1 h7dfu" "iProduct *2 h7dfu bootloader" \
    "iSerial *3 000000000000000015B00042" "bInterfaceClass *254" "iInterface *4 @Internal Flash  /0x081E0000/" \
    "bcdDFUVersion *1.1a" "wTransferSize *2048 bytes"; do
    echo "$out" | grep -q -- "$want" || { echo "FAIL: missing '$want'"; fail=1; }
done
exit $fail
