#!/bin/sh
# dfu-util -D then -U (two runs of h7dfu-sim sharing --flash FILE): the bytes
# read back are the bytes written, and a fresh flash reads back erased.
set -u
sim="$1"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
head -c 70000 /dev/urandom > "$dir/img.bin"
"$sim" --fast --flash "$dir/flash.h7" run -- dfu-util -a 0 -s 0x08020000 -D "$dir/img.bin" \
    || { echo "FAIL: download"; exit 1; }
[ -s "$dir/flash.h7" ] || { echo "FAIL: flash file not saved"; exit 1; }
"$sim" --fast --flash "$dir/flash.h7" run -- dfu-util -a 0 -s 0x08020000:70000 -U "$dir/up.bin" \
    || { echo "FAIL: upload"; exit 1; }
cmp "$dir/img.bin" "$dir/up.bin" || { echo "FAIL: read back differs"; exit 1; }
# A sector never written reads erased (0xFF).
"$sim" --fast --flash "$dir/flash.h7" run -- dfu-util -a 0 -s 0x08100000:4096 -U "$dir/erased.bin" \
    || { echo "FAIL: upload of bank 2"; exit 1; }
head -c 4096 /dev/zero | tr '\000' '\377' | cmp - "$dir/erased.bin" || { echo "FAIL: not erased"; exit 1; }
echo "round trip OK"
