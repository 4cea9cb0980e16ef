#!/bin/sh
# Wrong data reported as written, and the order of the flash writes.
#  1. A word that reads back differently after its block was programmed
#     (h7dfu-sim --flip-bit N:DELAY): h7dfu's verify finds it, with the
#     device's CRC and with --readback; it says so, exits 7 and never leaves
#     DFU mode, and `update` does not start the image.
#  2. A word programmed wrong at once (--flip-bit N): the device's own
#     read-back after programming reports errVERIFY; h7dfu exits 6.
#  3. On ST's ROM bootloader board, the read-back verify finds it too.
#  4. Record last: the flash log of `write` and `update` of a stamped image
#     ends with the two flash words of its record in the record area
#     (sector 15, 0x081E0000 on a fresh board), written once each, and
#     sector 15 is not erased.
# With H7_FW_ELF set (the exact firmware, tests/fw_emu) part 3 is skipped:
# the ROM board has no firmware mode.
. "$(dirname "$0")/lib.sh"

rand "$dir/img.bin" 8192
# Operation 1 erases sector 1; operation 44 programs the flash word at
# 0x08020540 (img.bin is raw: written from 0x08020000 in order), in the
# second half of the first 2 KiB block; the flipped bit is in its byte 21:
# 0x08020555.
FLIP=44
onboard() { # SIM-OPTIONS... -- CMD...: the board with options, output in $dir/out/err
    _o=""
    while [ "$1" != "--" ]; do
        _o="$_o $1"
        shift
    done
    shift
    # shellcheck disable=SC2086
    "$sim" --fast --flash "$fl" $_o run -- "$@" >"$dir/out" 2>"$dir/err"
    rc=$?
}
still_dfu() { # WHAT: the board is in DFU mode, no application runs
    onboard -- "$h7dfu" list
    grep -qF "0483:df11" "$dir/out" || { cat "$dir/out" "$dir/err"; fail "$1: board not in DFU mode"; }
    grep -qF "0483:5750" "$dir/out" && fail "$1: an application runs"
    return 0
}

# 1a. device CRC verify, the flip 70 operations later (after the device's own
# read-back of that block).
rm -f "$fl"
onboard --flip-bit $FLIP:70 -- "$h7dfu" write -s 0x08020000:leave:force "$dir/img.bin"
expect_rc 7 "write with a late bit flip (device CRC)"
expect_words "write with a late bit flip (device CRC)" "$dir/err" "verif" "What to do"
grep -q "left DFU mode\|starting the application" "$dir/err" "$dir/out" && fail "left DFU mode after a failed verify"
still_dfu "after a failed verify"

# 1b. the same with the read-back verify (UPLOAD, byte for byte).
rm -f "$fl"
onboard --flip-bit $FLIP:70 -- "$h7dfu" write --readback -s 0x08020000:leave:force "$dir/img.bin"
expect_rc 7 "write --readback with a late bit flip"
expect_words "write --readback with a late bit flip" "$dir/err" "0x08020555"
still_dfu "after a failed read-back verify"

# 1c. update of a stamped image: fails, the image is never started.
if [ -n "${H7_FW_ELF:-}" ]; then
    "$h7dfu" -q image stamp -V 1.0.0 "$(dirname "$H7_FW_ELF")/demo-app.elf" "$dir/app.hex" || fail "stamp"
else
    python3 - "$dir/body.bin" <<'PY'
import random, struct, sys
body = bytearray(random.Random(7).randbytes(8192))
struct.pack_into("<II", body, 0, 0x20020000, 0x08020000 + 0x201)
open(sys.argv[1], "wb").write(body)
PY
    "$h7dfu" -q image stamp -V 1.0.0 -s 0x08020000 "$dir/body.bin" "$dir/app.hex" || fail "stamp"
fi
rm -f "$fl"
onboard --flip-bit $FLIP:70 -- "$h7dfu" update "$dir/app.hex"
[ "$rc" -ne 0 ] || { cat "$dir/err"; fail "update with a late bit flip reported success"; }
expect_words "update with a late bit flip" "$dir/err" "verif"
grep -qF "is back" "$dir/err" && fail "update started the image after a failed verify"
still_dfu "after a failed update"

# 2. programmed wrong at once: the device's read-back reports errVERIFY.
rm -f "$fl"
onboard --flip-bit $FLIP -- "$h7dfu" write -s 0x08020000 "$dir/img.bin"
expect_rc 6 "write with a bit flipped at programming"
expect_words "write with a bit flipped at programming" "$dir/err" "errVERIFY"
still_dfu "after errVERIFY"

# 3. ST's ROM bootloader board (BOOT0 high): the read-back verify.
if [ -z "${H7_FW_ELF:-}" ]; then
    rm -f "$fl" "$fl.ob"
    onboard --rom --boot0 --flip-bit 2:70 -- "$h7dfu" write -s 0x08000000 "$dir/img.bin"
    expect_rc 7 "ROM board: write with a late bit flip"
    expect_words "ROM board: write with a late bit flip" "$dir/err" "verif" "What to do"
fi

# 4. record last, in the flash log of write and update.
header_last() { # WHAT LOG
    last2=$(grep ' program ' "$2" | tail -n 2 | awk '{print $3}' | tr '\n' ' ')
    [ "$last2" = "0x081e0000 0x081e0020 " ] || { tail -n 5 "$2"; fail "$1: the last flash words written are '$last2', not the record's"; }
    [ "$(tail -n 1 "$2" | awk '{print $3}')" = 0x081e0020 ] || fail "$1: operations after the record"
    n=$(grep -c ' 0x081e' "$2")
    [ "$n" -eq 2 ] || fail "$1: $n operations in the record area (want its two words, no erase)"
    [ "$(grep -c ' program ' "$2")" -gt 2 ] || fail "$1: no body written"
}
rm -f "$fl"
onboard --flash-log "$dir/w.log" -- "$h7dfu" write "$dir/app.hex"
expect_rc 0 "write of a stamped image"
header_last "write" "$dir/w.log"
rm -f "$fl"
onboard --flash-log "$dir/u.log" -- "$h7dfu" update "$dir/app.hex"
expect_rc 0 "update"
header_last "update" "$dir/u.log"
echo "verify faults and record-last OK"
