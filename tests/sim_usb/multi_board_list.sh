#!/bin/sh
# Three boards on one virtual bus (h7dfu-sim --board): h7dfu list and lsusb
# show each with its serial number and personality, on its own port.
#   multi_board_list.sh SIM H7DFU
set -u
sim="$1" h7dfu="$2"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() {
    echo "FAIL: $*"
    cat "$dir/out"
    exit 1
}
"$sim" --fast --board serial=MBA001,flash="$dir/a.h7" --board serial=MBB002,flash="$dir/b.h7" \
    --board serial=MBC003,rom,boot0,flash="$dir/c.h7" run -- sh -c "
        \"$h7dfu\" list; echo ---; lsusb; echo ---; ls /sys/bus/usb/devices;
        echo ---; for p in 1-1 1-2 1-3; do echo \$p \$(cat /sys/bus/usb/devices/\$p/serial); done;
        echo ---; \"$h7dfu\" -p 1-2 info" \
    >"$dir/out" 2>&1 || fail "exit status $?"
cat "$dir/out"
# h7dfu list: the serial on the path of its port, and the personality
grep -q 'path=1-1 .*serial="MBA001" "h7dfu bootloader"' "$dir/out" || fail "board 1"
grep -q 'path=1-2 .*serial="MBB002" "h7dfu bootloader"' "$dir/out" || fail "board 2"
grep -q 'path=1-3 .*"DFU in FS Mode"' "$dir/out" || fail "board 3 (ST's ROM)"
# three devices on bus 1, distinct device numbers
[ "$(grep -c '^Bus 001 Device .*0483:df11' "$dir/out")" -eq 3 ] || fail "lsusb: not 3 devices"
[ "$(grep '^Bus 001 Device' "$dir/out" | cut -d' ' -f4 | sort -u | wc -l)" -eq 3 ] ||
    fail "lsusb: device numbers not distinct"
grep -q '^1-1 MBA001$' "$dir/out" || fail "sysfs serial of 1-1"
grep -q '^1-2 MBB002$' "$dir/out" || fail "sysfs serial of 1-2"
# h7dfu -p selects by that path
grep -q '^serial *MBB002$' "$dir/out" || fail "h7dfu -p 1-2 info"
# each board's own flash file
for f in a b c; do [ -s "$dir/$f.h7" ] || fail "$f.h7 not saved"; done
[ -s "$dir/c.h7.ob" ] || fail "option bytes of the ROM board not saved"
# one-board options are refused next to --board, bad specs too
"$sim" --board serial=X --serial Y run -- true 2>/dev/null && fail "--serial with --board"
"$sim" --board flash=x run -- true 2>/dev/null && fail "spec without serial"
"$sim" --board serial=X --board serial=X run -- true 2>/dev/null && fail "same serial twice"
"$sim" --board serial=X,power-cut=0 run -- true 2>/dev/null && fail "power-cut=0"
echo PASS
