#!/bin/sh
# Device removal and re-addition are atomic for programs, as with the kernel:
# while the board leaves DFU (and comes back with a new number) again and
# again, a program that lists, opens and reads it beside never meets a node
# without its ioctl handler (umockdev's preload would exit 1: "Failed to
# connect to ioctl socket", or the requests fail as not emulated) and only
# ever sees the device whole, or gone (NOT_FOUND / NO_DEVICE).
#   usage: reenum_churn.sh SIM USB_CHURN
set -u
sim="$1"
churn="$2"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
head -c 2048 /dev/urandom > "$dir/img.bin"
# A serial that is also a chip UID (24 hex digits): the same with --firmware.
serial=00000000000000000C4A0001
"$sim" --fast --serial $serial --flash "$dir/flash.h7" run -- sh -c '
    churn="$1" img="$2" d="$3" serial="$4"
    "$churn" 0483:df11 "$serial" 8 >"$d/churn.out" 2>&1 &
    pid=$!
    leaves=0 stuck=0
    # Each dfu-util run is bounded: this test is about what the reader sees;
    # a writer that stops making progress is counted and reported instead of
    # stalling the loop until ctest gives up.
    while kill -0 $pid 2>/dev/null; do
        timeout 20 dfu-util -a 0 -s 0x08020000:leave -D "$img" >/dev/null 2>&1
        case $? in
        0) leaves=$((leaves + 1)) ;;
        124) stuck=$((stuck + 1)) ;;
        esac
    done
    wait $pid
    echo $? >"$d/churn.rc"
    echo "$leaves leaves, $stuck dfu-util runs stopped after 20 s" >"$d/leaves"
' sh "$churn" "$dir/img.bin" "$dir" "$serial" 2>"$dir/sim.err"
cat "$dir/churn.out" "$dir/leaves" "$dir/sim.err"
rc=$(cat "$dir/churn.rc" 2>/dev/null || echo none)
[ "$rc" = 0 ] || { echo "FAIL: usb_churn exit status $rc"; exit 1; }
grep -q "ERROR: libumockdev" "$dir/churn.out" "$dir/sim.err" && { echo "FAIL: umockdev error"; exit 1; }
leaves=$(sed 's/ .*//' "$dir/leaves")
[ "$leaves" -ge 3 ] || { echo "FAIL: only $leaves leaves: no churn"; exit 1; }
grep -q " 0 reads" "$dir/churn.out" && { echo "FAIL: the device was never read"; exit 1; }
echo PASS
