#!/bin/sh
# DfuSe leave: the board resets itself and comes back with a NEW device number,
# as a real hub shows it; programs started afterwards find it there.
set -u
sim="$1"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
head -c 4096 /dev/urandom > "$dir/img.bin"
out=$("$sim" --fast --flash "$dir/flash.h7" run -- sh -c '
    dfu-util -a 0 -s 0x08020000:leave -D "$0" || exit 1
    # up to 5 s: the emulated chip boots instruction by instruction, slow
    # on a loaded machine
    i=0
    while [ $i -lt 50 ]; do
        lsusb -d 0483:df11 | grep -q "Device 003" && break
        sleep 0.1
        i=$((i + 1))
    done
    lsusb -d 0483:df11' "$dir/img.bin" 2>&1) || { echo "$out"; echo "FAIL: exit status"; exit 1; }
echo "$out"
echo "$out" | grep -q "Bus 001 Device 003: ID 0483:df11" || { echo "FAIL: not re-enumerated as device 3"; exit 1; }
