#!/bin/sh
# Hardware that does not answer, on the exact firmware:
#  - the board's VDD33USB is missing, so PWR_CR3.USB33RDY never comes: the
#    bootloader's bounded wait gives up and hands over to ST's ROM
#    bootloader (reachable over its other interfaces) instead of spinning;
#  - a flash controller that never finishes an erase (BSY stuck): the
#    driver's bounded wait gives up after 10 s, the host gets errERASE, and
#    the board stays on USB in DFU mode;
#  - worn flash (twice DS12110's maximum erase and program times): an update
#    still goes through (bwPollTimeout, the host's and the driver's time-outs).
. "$(dirname "$0")/lib.sh"
chip --no-usb-supply --events -- true >"$dir/n" 2>&1 || { cat "$dir/n"; fail "no USB supply: sim exit status"; }
expect_words "no USB supply" "$dir/n" "handed over to ST's ROM bootloader"
grep -q "does not model" "$dir/n" && { cat "$dir/n"; fail "no USB supply: unmodelled access"; }
head -c 4096 /dev/urandom >"$dir/b2.bin"
chip --flash-stuck 1 --stats "$dir/sst" -- sh -c '"$1" write -s 0x08100000 "$2"; echo "rc=$?"; "$1" list' \
    sh "$h7dfu" "$dir/b2.bin" >"$dir/s" 2>&1 || { cat "$dir/s"; fail "stuck flash: sim exit status"; }
expect_words "stuck flash" "$dir/s" "rc=6" "errERASE" "0483:df11"
t=$(sed -n 's/^modeled_s=//p' "$dir/sst")
awk "BEGIN { exit !($t >= 10.0 && $t < 20.0) }" || fail "stuck flash: the driver waited $t s, want its 10 s bound"
stamp 3.1.4 "$dir/v.hex"
chip --flash-times worn --stats "$dir/st" -- "$h7dfu" update "$dir/v.hex" >"$dir/w" 2>&1 ||
    { cat "$dir/w"; fail "worn flash: update"; }
expect_words "worn flash" "$dir/w" "is back, version 3.1.4"
expect_words "worn flash: erase time charged" "$dir/st" "flash_busy_s=4."
echo "hardware faults OK"
