#!/bin/sh
# h7dfu update of the stamped demo application onto the emulated bootloader:
# the emulated application comes back on USB (HID + DFU run-time) with its
# version; a second update (v2) goes through the application's DETACH.
. "$(dirname "$0")/lib.sh"
stamp 1.2.3 "$dir/v1.hex"
stamp 2.0.1 "$dir/v2.hex"
chip --events --stats "$dir/st1" -- "$h7dfu" update "$dir/v1.hex" >"$dir/o1" 2>&1 || { cat "$dir/o1"; fail "update v1"; }
# The firmware programs and erases with 64-bit parallelism (FLASH_CR PSIZE
# x64): DS12110 typical 1 s per sector erase, 100 us per flash word; another
# PSIZE takes longer (the flash controller model charges by PSIZE).
awk -F= '/^sector_erases=/ { e = $2 } /^words_programmed=/ { w = $2 } /^flash_busy_s=/ { b = $2 }
    END { want = e * 1.0 + w * 0.0001; d = b - want; if (d < 0) d = -d;
          if (e < 1 || w < 1 || d > 1e-6) { printf "flash busy %s s, want %.6f s (%d erases, %d words at x64)\n", b, want, e, w; exit 1 } }' \
    "$dir/st1" || fail "update v1: flash time is not that of x64 parallelism"
expect_words "update v1" "$dir/o1" "is back, version 1.2.3" "started the application"
chip -- "$h7dfu" list >"$dir/l1" 2>&1 || { cat "$dir/l1"; fail "list v1"; }
expect_words "list after v1" "$dir/l1" "0483:5750" "h7dfu demo app" "serial=\"$serial\""
chip --events -- "$h7dfu" update "$dir/v2.hex" >"$dir/o2" 2>&1 || { cat "$dir/o2"; fail "update v2"; }
# v2 goes in through the running application: DETACH, its reset, DFU mode.
expect_words "update v2" "$dir/o2" "is back, version 2.0.1" "system reset (SYSRESETREQ"
chip -- "$h7dfu" list >"$dir/l2" 2>&1 || { cat "$dir/l2"; fail "list v2"; }
expect_words "list after v2" "$dir/l2" "0483:5750"
echo "update OK"
