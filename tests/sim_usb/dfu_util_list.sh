#!/bin/sh
# dfu-util -l, unmodified, lists the alternate setting with the DfuSe string.
set -u
sim="$1"
out=$("$sim" --serial 000000000000000000110001 run -- dfu-util -l 2>&1) || { echo "$out"; echo "FAIL: exit status"; exit 1; }
echo "$out"
echo "$out" | grep -q 'Found DFU: \[0483:df11\] ver=0200, devnum=2, cfg=1, intf=0, path="1-1", alt=0, name="@Internal Flash  /0x081E0000/01\*128Kg/0x08020000/14\*128Kg/0x08000000/01\*128Ka", serial="000000000000000000110001"' \
    || { echo "FAIL: alt setting line missing or wrong"; exit 1; }
