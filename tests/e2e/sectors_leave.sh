#!/bin/sh
# Only the sectors an image touches are erased; erase ADDR:LEN erases the
# sectors of the range and --mass all but the bootloader's; leave makes the
# board re-enumerate with a new device number, found by the next command.
. "$(dirname "$0")/lib.sh"
S5=0x080a0000 S6=0x080c0000

rand "$dir/s567.bin" 393216
head -c 131072 "$dir/s567.bin" >"$dir/s5.bin"
tail -c 131072 "$dir/s567.bin" >"$dir/s7.bin"
h7 -q write -s "$S5" "$dir/s567.bin"
expect_rc 0 "fill sectors 5..7"
readback "$S5" "$dir/s567.bin"
# Plant a "bootloader" in sector 0 straight into the flash file: 4 KiB of data,
# its 128 flash words marked programmed (h7dfu-sim flash poke).
# On the emulated chip (H7_FW_ELF: h7dfu-sim --firmware) sector 0 holds the
# firmware itself, put there at every start: its first 4 KiB are the reference.
if [ -n "${H7_FW_ELF:-}" ]; then
    head -c 4096 "$(dirname "$H7_FW_ELF")/bootloader.bin" >"$dir/boot.bin"
    [ "$(wc -c <"$dir/boot.bin")" -eq 4096 ] || fail "no bootloader.bin beside $H7_FW_ELF"
else
    rand "$dir/boot.bin" 4096
fi
[ -n "${H7_FW_ELF:-}" ] || "$sim" flash poke "$fl" 0x08000000 "@$dir/boot.bin" ||
    fail "cannot plant sector 0"

# A 1-sector image in sector 6: sector 6 is erased first (its old tail reads
# 0xFF), sectors 5 and 7 keep their data.
rand "$dir/small.bin" 4000
h7 write -s "$S6" "$dir/small.bin"
expect_rc 0 "write 1-sector image"
expect_words "write 1-sector image" "$dir/err" "erased 1 sector(s)" verified
h7 -q read --force "$S5:393216" "$dir/s567.bin"
expect_rc 0 "read sectors 5-7"
head -c 131072 "$dir/s567.bin" | cmp - "$dir/s5.bin" || fail "sector 5 changed by a write to sector 6"
tail -c 131072 "$dir/s567.bin" | cmp - "$dir/s7.bin" || fail "sector 7 changed by a write to sector 6"
tail -c +131073 "$dir/s567.bin" | head -c 4000 | cmp - "$dir/small.bin" || fail "sector 6 data"
tail -c +$((131072 + 4001)) "$dir/s567.bin" | head -c $((131072 - 4000)) >"$dir/tail6.bin"
erased "$dir/tail6.bin" $((131072 - 4000)) || fail "sector 6 not erased before the write"
readback "$S6" "$dir/small.bin"

# erase ADDR:LEN inside sector 5: the whole of sector 5 and nothing else.
h7 erase 0x080a1000:16
expect_rc 0 "erase 0x080a1000:16"
h7 -q read --force "$S5:393216" "$dir/s567.bin"
expect_rc 0 "read sectors 5-7 after erase"
head -c 131072 "$dir/s567.bin" >"$dir/s5now.bin"
erased "$dir/s5now.bin" 131072 || fail "erase ADDR:LEN did not erase sector 5"
tail -c 131072 "$dir/s567.bin" | cmp - "$dir/s7.bin" || fail "erase of sector 5 touched sector 7"
# A range across two sectors erases both (6 and 7).
h7 -q erase 0x080dfff0:32
expect_rc 0 "erase across sectors 6/7"
h7 -q read --force "$S6:262144" "$dir/s67.bin"
expect_rc 0 "read sectors 6-7 after erase"
erased "$dir/s67.bin" 262144 || fail "erase across sectors 6/7 left data"

# --mass: every writable sector erased, sector 0 (bootloader) kept.
h7 -q write -s 0x08020000 "$dir/s5.bin"
expect_rc 0 "write sector 1"
readback 0x08020000 "$dir/s5.bin"
h7 -q write -s 0x081e0000 "$dir/s7.bin"
expect_rc 0 "write sector 15"
readback 0x081e0000 "$dir/s7.bin"
h7 --json erase --mass
expect_rc 0 "erase --mass"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["ok"] and d["command"]=="erase"' \
    "$dir/out" || fail "erase --json output"
h7 -q read --force 0x08000000:4096 "$dir/b0.bin"
expect_rc 0 "read sector 0"
cmp "$dir/b0.bin" "$dir/boot.bin" || fail "--mass erased the bootloader sector"
# Sectors 1..15 checked in the flash file the sim saved (faster than a read).
flash_dump 0x08020000 $((15 * 131072)) "$dir/app.bin"
erased "$dir/app.bin" $((15 * 131072)) || fail "--mass left data in sectors 1..15"

# leave: the board resets, comes back with a NEW device number; the next
# command in the same run finds it. h7dfu waits for it and says what it did.
# The emulated chip (H7_FW_ELF), like silicon, answers the leave's GETSTATUS
# and drops off the bus 10 ms later, when h7dfu has returned; a command started
# in between meets the old device going away (the native board is gone at
# once). There the next command waits until lsusb no longer shows it.
leave_and_list() { # WANT_RC ARGS of the leaving h7dfu command
    _ll_want=$1
    shift
    board sh -c '
        h7dfu="$1"; shift
        "$h7dfu" --json list > "$0/before.json" || exit 11
        old=$(lsusb -d 0483:df11)
        "$h7dfu" "$@"; echo $? > "$0/leave.rc"
        i=0
        while [ -n "${H7_FW_ELF:-}" ] && [ $i -lt 50 ] && [ "$(lsusb -d 0483:df11)" = "$old" ]; do
            sleep 0.1
            i=$((i + 1))
        done
        "$h7dfu" -w 2 --json info > "$0/after.json" || exit 13
    ' "$dir" "$h7dfu" "$@" 2>"$dir/err"
    rc=$?
    expect_rc 0 "$* then info"
    rc=$(cat "$dir/leave.rc")
    expect_rc "$_ll_want" "$*"
    python3 -c '
import json, sys
b = json.load(open(sys.argv[1]))["devices"][0]
a = json.load(open(sys.argv[2]))["device"]
assert a["devnum"] > b["devnum"], (b["devnum"], a["devnum"])
assert a["serial"] == b["serial"] and a["path"] == b["path"]
' "$dir/before.json" "$dir/after.json" || fail "$*: no re-enumeration with a new device number"
}
# On the h7dfu bootloader a leave is refused while the slot holds nothing it
# would start (the flash is erased here): exit 3, the board still in DFU mode.
h7 leave
expect_rc 3 "leave with an empty slot"
expect_words "leave with an empty slot" "$dir/err" "no image the h7dfu bootloader would start" \
    "no image" "--force" "stays in DFU mode"
grep -q "left DFU mode" "$dir/err" && fail "leave with an empty slot: it left"
h7 --json info
expect_rc 0 "info after a refused leave"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["state"]=="dfuIDLE", d' \
    "$dir/out" || fail "after a refused leave the board is not in dfuIDLE"
# --force leaves anyway; h7dfu says the board came back in DFU mode, and why.
leave_and_list 6 leave --force
expect_words "leave --force" "$dir/err" "left DFU mode" "back in DFU mode" "slot: no image"
leave_and_list 6 leave --force 0x08020000
rand "$dir/l.bin" 3000
# A leave of data the bootloader would not start (no image record) is
# refused before anything is written...
h7 write -s 0x08020000:leave "$dir/l.bin"
expect_rc 3 "write -s ADDR:leave of a raw image"
expect_words "write -s ADDR:leave of a raw image" "$dir/err" \
    "not an image the h7dfu bootloader would start" "nothing was written"
# ... and with :force it is written and left, and h7dfu says what the board
# did: back in DFU mode, with the bootloader's reason (exit 6).
h7 write -s 0x08020000:leave:force "$dir/l.bin"
expect_rc 6 "write -s ADDR:leave:force of a raw image"
expect_words "write -s ADDR:leave:force" "$dir/err" "verified" "left DFU mode" \
    "back in DFU mode" "slot: no image"
h7 -q read --force 0x08020000:3000 "$dir/back.bin"
expect_rc 0 "read after write :leave"
cmp "$dir/l.bin" "$dir/back.bin" || fail "data written before leave lost"
readback 0x08020000 "$dir/l.bin"
h7 write --leave -s 0x08040000:force "$dir/l.bin"
expect_rc 6 "write --leave -s ADDR:force"
readback 0x08040000 "$dir/l.bin"
# Leaving starts what is in flash: never into an image that was not verified.
h7 write --no-verify -s 0x08060000:leave "$dir/l.bin"
expect_rc 2 "write --no-verify :leave"
expect_words "write --no-verify :leave" "$dir/err" "leave needs a verified image"

# A stamped application written, then `leave`: the slot check passes and h7dfu
# says the application started, with its version (one board run: at the next
# power-on the board would start it by itself). On the emulated chip
# (H7_FW_ELF) the application is the real demo app.
if [ -n "${H7_FW_ELF:-}" ]; then
    "$h7dfu" -q image stamp -V 1.4.2 "$(dirname "$H7_FW_ELF")/demo-app.elf" "$dir/app.hex" ||
        fail "stamp the demo app"
else
    python3 - "$dir/body.bin" <<'PY'
import random, struct, sys
body = bytearray(random.Random(7).randbytes(40 * 1024))
struct.pack_into("<II", body, 0, 0x20020000, 0x08020000 + 0x201)
open(sys.argv[1], "wb").write(body)
PY
    "$h7dfu" -q image stamp -V 1.4.2 -s 0x08020000 "$dir/body.bin" "$dir/app.hex" ||
        fail "stamp the application"
fi
board sh -c '"$1" -q write "$2" || exit 11; "$1" leave' sh "$h7dfu" "$dir/app.hex" \
    >"$dir/out" 2>"$dir/err"
rc=$?
expect_rc 0 "write a stamped application, then leave"
expect_words "leave with a stamped application" "$dir/err" "left DFU mode" \
    "the application started" "1.4.2"
echo OK
