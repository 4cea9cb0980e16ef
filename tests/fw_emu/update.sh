#!/bin/sh
# h7dfu update of the stamped demo application onto the emulated bootloader:
# the emulated application comes back on USB (HID + DFU run-time) with its
# version; a second update (v2) goes through the application's DETACH.
. "$(dirname "$0")/lib.sh"
stamp 1.2.3 "$dir/v1.hex"
stamp 2.0.1 "$dir/v2.hex"
chip --events -- "$h7dfu" update "$dir/v1.hex" >"$dir/o1" 2>&1 || { cat "$dir/o1"; fail "update v1"; }
expect_in "update v1" "$dir/o1" "is back, version 1.2.3" "started the application"
chip -- "$h7dfu" list >"$dir/l1" 2>&1 || { cat "$dir/l1"; fail "list v1"; }
expect_in "list after v1" "$dir/l1" "0483:5750" "h7dfu demo app" "serial=\"$serial\""
chip --events -- "$h7dfu" update "$dir/v2.hex" >"$dir/o2" 2>&1 || { cat "$dir/o2"; fail "update v2"; }
# v2 goes in through the running application: DETACH, its reset, DFU mode.
expect_in "update v2" "$dir/o2" "is back, version 2.0.1" "system reset (SYSRESETREQ"
chip -- "$h7dfu" list >"$dir/l2" 2>&1 || { cat "$dir/l2"; fail "list v2"; }
expect_in "list after v2" "$dir/l2" "0483:5750"
echo "update OK"
