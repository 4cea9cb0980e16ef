#!/bin/sh
# h7dfu against ST's ROM bootloader: the app hands over to the ROM (flag in
# RAM, reset, early check), h7dfu writes + verifies a raw image at 0x08000000
# and leaves; the ROM jumps to it WITHOUT a reset. The default app resets
# itself and comes back; a naive app never enumerates, and h7dfu says why.
. "$(dirname "$0")/lib.sh"
app_image "$dir/v1.bin" 56512
app_image "$dir/v2.bin" 70000

# 1. write + verify + leave by hand: detach, write, leave, the app is back.
rom --install "$dir/v1.bin" -- sh -c '
    "$1" detach >/dev/null || exit 11
    "$1" -w 5 write -s 0x08000000:leave "$2" || exit 12
    "$1" -d 0483:5750 -w 5 --json list > "$3/list.json" || exit 13
' sh "$h7dfu" "$dir/v2.bin" "$dir" >"$dir/out" 2>"$dir/err"
rc=$?
expect_rc 0 "detach, write :leave, list"
expect_words "hand-over" "$dir/err" "application's early check found ENTER_ROM_BOOTLOADER" \
    "ROM: leave: jump to 0x08000000 without a reset" "it resets itself" \
    "-> the application at 0x08000000 (started from reset)"
expect_words "write" "$dir/err" "verified" "left DFU mode"
grep -q '5750' "$dir/list.json" || { cat "$dir/list.json"; fail "the app is not back"; }
flash_bytes 0 70000 "$dir/back.bin"
cmp "$dir/v2.bin" "$dir/back.bin" || fail "flash differs from the written image"

# 2. h7dfu update, default app: detach -> ROM (other serial: matched by path)
#    -> write/verify -> leave -> the app is back.
h7 -- -w 2 update -s 0x08000000 "$dir/v1.bin"
expect_rc 0 "update on a ROM board"
expect_words "update" "$dir/err" "found on the same USB path" \
    "ST's ROM bootloader uses its own serial number" "is back"
flash_bytes 0 56512 "$dir/back.bin"
cmp "$dir/v1.bin" "$dir/back.bin" || fail "update: flash differs from the image"

# 3. naive app: written and verified, but after the ROM's jump it never
#    enumerates: exit 6 with the field failure named and the fix.
h7 --rom-app-naive -- -w 2 update -s 0x08000000 --wait-app 2 "$dir/v2.bin"
expect_rc 6 "update with a naive app"
expect_words "naive app" "$dir/err" "did not come back" "without a reset" "reported from the field" \
    "power-cycle" "reset itself" "h7dfu bootloader" "NEVER enumerates"
flash_bytes 0 70000 "$dir/back.bin"
cmp "$dir/v2.bin" "$dir/back.bin" || fail "naive: the image was still written and verified"
# A power cycle starts it from reset: the naive app then enumerates.
h7 --rom-app-naive -- -w 2 list
expect_words "naive app after power-on" "$dir/out" "0483:5750"
echo OK
