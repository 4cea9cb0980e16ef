#!/bin/sh
# One long-running libusb program on a bus of three boards sees board 2 (its
# unplug fault) leave and come back, and nothing of board 1, which still
# answers afterwards (usb_hotplug_multi.c).
#   multi_board_hotplug.sh SIM USB_HOTPLUG_MULTI
set -u
sim="$1" prog="$2"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$sim" --fast --events --board serial=HPA001 --board serial=HPB002,unplug=30,unplug-ms=300 \
    --board serial=HPC003 run -- "$prog" 1 2 >"$dir/out" 2>&1
rc=$?
cat "$dir/out"
[ "$rc" -eq 77 ] && exit 77
[ "$rc" -eq 0 ] || { echo "FAIL: exit status $rc"; exit 1; }
grep -E '^(arrived|left) .* 1-2$' "$dir/out" | tr '\n' ' ' |
    grep -q 'arrived 0483:df11 1-2 left 0483:df11 1-2 arrived 0483:df11 1-2' || {
    echo "FAIL: board 2's events"
    exit 1
}
grep -q '^\[HPB002\] .*UNPLUGGED' "$dir/out" || { echo "FAIL: no unplug of board 2"; exit 1; }
if grep -q '^\[HP[AC]00.\] .*UNPLUGGED' "$dir/out"; then
    echo "FAIL: another board was unplugged"
    exit 1
fi
echo PASS
