#!/bin/sh
# Unmodified dfu-util against the ROM board: -l, -D, -U, and :leave (the ROM
# jumps to the new application, which resets itself and enumerates).
. "$(dirname "$0")/lib.sh"
command -v dfu-util >/dev/null || { echo "SKIP: dfu-util not found"; exit 77; }
app_image "$dir/a.bin" 70000

rom --boot0 -- dfu-util -a 0 -s 0x08000000 -D "$dir/a.bin" >"$dir/out" 2>&1 || {
    cat "$dir/out"
    fail "dfu-util -D"
}
flash_bytes 0 70000 "$dir/back.bin"
cmp "$dir/a.bin" "$dir/back.bin" || fail "dfu-util -D: flash differs"
rom --boot0 -- dfu-util -a 0 -s 0x08000000:70000 -U "$dir/up.bin" >"$dir/out" 2>&1 || {
    cat "$dir/out"
    fail "dfu-util -U"
}
cmp "$dir/a.bin" "$dir/up.bin" || fail "dfu-util -U differs"
# Option bytes read by dfu-util (alt 1): 128 bytes, RDP 0xAA at offset 1.
rom --boot0 -- dfu-util -a 1 -s 0x5200201C:128 -U "$dir/ob.bin" >"$dir/out" 2>&1 || {
    cat "$dir/out"
    fail "dfu-util -U option bytes"
}
[ "$(wc -c <"$dir/ob.bin")" -eq 128 ] || fail "option bytes: size"
[ "$(od -An -tx1 -j1 -N1 "$dir/ob.bin" | tr -d ' ')" = "aa" ] || fail "option bytes: RDP byte"

# :leave with BOOT0 low (the ROM reached through the app's hand-over).
app_image "$dir/b.bin" 4096
rom -- sh -c '
    "$1" detach >/dev/null || exit 11
    sleep 1
    dfu-util -a 0 -s 0x08000000:leave -D "$2" > "$3/du.txt" 2>&1 || exit 12
    "$1" -d 0483:5750 -w 5 --json list > "$3/list.json" || exit 13
' sh "$h7dfu" "$dir/b.bin" "$dir" >"$dir/out" 2>"$dir/err" || {
    cat "$dir/du.txt" "$dir/err"
    fail "dfu-util :leave"
}
grep -q '5750' "$dir/list.json" || { cat "$dir/list.json" "$dir/err"; fail "app not back after dfu-util :leave"; }
expect_words ":leave" "$dir/err" "ROM: leave: jump to 0x08000000 without a reset"
echo OK
