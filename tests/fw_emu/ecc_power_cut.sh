#!/bin/sh
# A power cut that leaves half-erased or half-programmed flash words (double
# ECC errors) in the slot: the exact bootloader binary must come back in DFU
# mode at the next power-on, quickly, and a new update must complete.
#   cut 1: during the erase of the slot's first sector (operation 1)
#   cut 2: during the program of the image record (the last operation)
. "$(dirname "$0")/lib.sh"
stamp 1.0.0 "$dir/v1.hex"
stamp_changed 1.0.1 "$dir/v2.hex"

# Operations of a clean update v1 -> v2, counted on a copy.
clean_update_ops "$dir/v1.hex" "$dir/v2.hex"

for cut in 1 "$ops"; do
    cp "$dir/v1.h7" "$fl"
    # The update loses the board at the cut; h7dfu says so and fails.
    chip --events --power-cut "$cut:during" -- "$h7dfu" update "$dir/v2.hex" >"$dir/c" 2>&1 &&
        { cat "$dir/c"; fail "cut $cut: update reported success"; }
    expect_words "cut $cut" "$dir/c" "POWER CUT at flash operation $cut"
    # Next power-on: DFU mode (0483:df11) within 2 s of virtual time.
    chip --stats "$dir/st2" -- dfu-util -l >"$dir/l" 2>&1 || { cat "$dir/l"; fail "cut $cut: dfu-util -l"; }
    expect_words "cut $cut: after the cut" "$dir/l" "Found DFU: [0483:df11]"
    t=$(sed -n 's/^modeled_s=//p' "$dir/st2")
    awk "BEGIN { exit !($t < 2.0) }" || fail "cut $cut: DFU mode after $t s of virtual time"
    chip -- "$h7dfu" update "$dir/v2.hex" >"$dir/r" 2>&1 || { cat "$dir/r"; fail "cut $cut: update after the cut"; }
    expect_words "cut $cut: recovery" "$dir/r" "1.0.1"
done
echo "ECC power cuts OK"
