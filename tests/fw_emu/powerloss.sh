#!/bin/sh
# Power cut at flash operations of an update, on the exact firmware: after
# each cut the board must come back (in DFU mode, or running a valid image)
# and the same update must then complete. Prints the counts.
#   powerloss.sh SIM H7DFU FWDIR [STRIDE [PHASES]]
# STRIDE: every STRIDE-th operation, the first and the last always (default
# 97); PHASES: comma-separated before,during,after (default during).
. "$(dirname "$0")/lib.sh"
stride="${4:-97}"
phases=$(echo "${5:-during}" | tr ',' ' ')
stamp 1.0.0 "$dir/v1.hex"
stamp_changed 1.0.1 "$dir/v2.hex"
clean_update_ops "$dir/v1.hex" "$dir/v2.hex"
points="1"
n=$((1 + stride))
while [ "$n" -lt "$ops" ]; do
    points="$points $n"
    n=$((n + stride))
done
[ "$ops" -gt 1 ] && points="$points $ops"
cuts=0 dfu=0 app=0 bricked=0 finished=0
for cut in $points; do
    for ph in $phases; do
        cuts=$((cuts + 1))
        cp "$dir/v1.h7" "$fl"
        chip --power-cut "$cut:$ph" -- "$h7dfu" update "$dir/v2.hex" >"$dir/c" 2>&1
        # What the board is at the next power-on.
        chip -- "$h7dfu" list >"$dir/l" 2>&1
        if grep -qF "0483:df11" "$dir/l"; then
            dfu=$((dfu + 1))
        elif grep -qF "0483:5750" "$dir/l"; then
            app=$((app + 1))
        else
            bricked=$((bricked + 1))
            echo "cut $cut:$ph: nothing on USB after power-on"
            cat "$dir/l"
            continue
        fi
        if chip -- "$h7dfu" update "$dir/v2.hex" >"$dir/r" 2>&1 && grep -qF "is back, version 1.0.1" "$dir/r"; then
            finished=$((finished + 1))
        else
            echo "cut $cut:$ph: the update did not complete afterwards"
            cat "$dir/r"
        fi
    done
done
echo "emulated firmware power cuts: $ops flash operations per update, $cuts cut points:" \
    "$dfu in DFU mode, $app running an image, $bricked bricked; update completed afterwards $finished/$cuts"
[ "$bricked" -eq 0 ] && [ "$finished" -eq "$cuts" ] || fail "power-cut runner"
