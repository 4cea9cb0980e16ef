#!/bin/sh
# h7dfu killed with SIGKILL in the middle of a write, and the board unplugged
# at random points of one: the board stays on USB (DFU mode, or the old
# application only if it is still whole), and the next run of the same
# command completes.
. "$(dirname "$0")/lib.sh"

# A stamped application: a plausible vector table (SP in DTCM, Thumb reset
# vector inside the body) and random code, 300 KiB over three sectors. On the
# emulated chip (H7_FW_ELF: h7dfu-sim --firmware) random code would lock the
# core up, as on silicon: there the application is the real demo app.
mkapp() { # OUT VERSION SEED
    if [ -n "${H7_FW_ELF:-}" ]; then
        "$h7dfu" -q image stamp -V "$2" "$(dirname "$H7_FW_ELF")/demo-app.elf" "$1" || fail "stamp $1"
        "$h7dfu" -q image stamp -V "$2" "$(dirname "$H7_FW_ELF")/demo-app.elf" "${1%.hex}.bin" ||
            fail "stamp ${1%.hex}.bin"
        return
    fi
    python3 - "$dir/body.bin" "$3" <<'PY'
import random, struct, sys
r = random.Random(int(sys.argv[2]))
body = bytearray(r.randbytes(300 * 1024))
struct.pack_into("<II", body, 0, 0x20020000, 0x08020000 + 0x201)
open(sys.argv[1], "wb").write(body)
PY
    "$h7dfu" -q image stamp -V "$2" -s 0x08020000 "$dir/body.bin" "$1" || fail "stamp $1"
    "$h7dfu" -q image stamp -V "$2" -s 0x08020000 "$dir/body.bin" "${1%.hex}.bin" ||
        fail "stamp ${1%.hex}.bin"
}
mkapp "$dir/v1.hex" 1.0.0 1
mkapp "$dir/v2.hex" 2.0.0 2

# 1. SIGKILL mid-write (update from a running v1), then the same update again.
"$sim" --fast --flash "$fl" --install "$dir/v1.hex" --flash-log "$dir/kill.log" run -- sh -c '
    h="$1" d="$2"
    # (--no-skip: on the emulated chip v1 and v2 share their body.)
    # Kill once the write is under way: when the board has programmed a
    # quarter of the image'"'"'s flash words (the flash log shows each as it
    # happens), whatever the speed of the machine.
    "$4" "$d/kill.log" "$3" KILL /dev/null "$d/killed.err" -- "$h" -q update --no-skip "$d/v2.hex"
    echo $? >"$d/killed.rc"
    "$h" list >"$d/after_kill.txt" 2>&1
    "$h" update "$d/v2.hex" >"$d/retry.out" 2>"$d/retry.err"; echo $? >"$d/retry.rc"
' sh "$h7dfu" "$dir" $(($(wc -c <"$dir/v2.bin") / 32 / 4)) "$(dirname "$0")/signal_at_words.sh" ||
    fail "sim run"
[ "$(cat "$dir/killed.rc")" = 137 ] || fail "h7dfu was not killed mid-write (exit $(cat "$dir/killed.rc"))"
grep -q "0483:df11 DFU" "$dir/after_kill.txt" || {
    cat "$dir/after_kill.txt"
    fail "after SIGKILL the board is not on USB in DFU mode"
}
[ "$(cat "$dir/retry.rc")" = 0 ] || {
    cat "$dir/retry.err"
    fail "update after SIGKILL: exit $(cat "$dir/retry.rc")"
}
expect_words "update after SIGKILL" "$dir/retry.err" "already in DFU mode" "version 2.0.0"
# The application runs now (no DFU mode to upload from): the slot is read
# from the flash file the sim saved.
# (v2.bin is h7dfu's stamped binary: the 64-byte record, then the body.)
tail -c +65 "$dir/v2.bin" >"$dir/v2.body"
flash_has "$fl" 0x08020000 "$dir/v2.body"

# 2. Unplugged at three random points of a write; each time running the same
#    command again completes (on a board with no application, so it stays in
#    DFU mode). Every write rewrites everything (--no-skip) so the unplug lands
#    inside a write; the points are drawn from the requests a clean write takes.
rand "$dir/big.bin" 600000
"$sim" -v --fast --flash "$dir/count.h7" run -- "$h7dfu" -q write --no-skip -s 0x08080000 \
    "$dir/big.bin" 2>"$dir/count.log" || fail "clean write"
total=$(sed -n 's/.*usb: [0-9]* enumeration(s), \([0-9]*\) request(s).*/\1/p' "$dir/count.log")
[ -n "$total" ] && [ "$total" -gt 100 ] || fail "no request count from the simulator"
seed=${H7_FAULT_SEED:-$(date +%s)}
echo "unplug points from seed $seed (a clean write takes $total requests)"
for point in $(python3 -c "import random; r=random.Random($seed); print(*sorted(r.sample(range(20, $total - 20), 3)))"); do
    rm -f "$dir/try1.rc" "$dir/read.rc"
    "$sim" --fast --flash "$dir/blank.h7" --unplug-after-requests "$point" --unplug-ms 200 run -- sh -c '
        h="$1" d="$2"
        "$h" write --no-skip -s 0x08080000 "$d/big.bin" 2>"$d/unplug.err"; echo $? >"$d/unplug.rc"
        # The user runs the same command again (the unplug happened only once).
        "$h" -w 3 -q write --no-skip -s 0x08080000 "$d/big.bin"; echo $? >"$d/try1.rc"
        "$h" -w 3 -q read --force 0x08080000:600000 "$d/back.bin"; echo $? >"$d/read.rc"
    ' sh "$h7dfu" "$dir" || fail "sim run (unplug at request $point)"
    rc=$(cat "$dir/unplug.rc")
    [ "$rc" = 8 ] || { cat "$dir/unplug.err"; fail "unplug at $point: exit $rc, want 8"; }
    expect_words "unplug at $point" "$dir/unplug.err" "gone" "What to do"
    [ "$(cat "$dir/try1.rc")" = 0 ] || fail "the same write after the unplug at $point failed"
    [ "$(cat "$dir/read.rc")" = 0 ] || fail "read after the unplug at $point failed"
    cmp -s "$dir/big.bin" "$dir/back.bin" || fail "after unplug at $point: read back differs"
    fl_kept="$fl" fl="$dir/blank.h7"
    readback 0x08080000 "$dir/big.bin"
    fl="$fl_kept"
done
echo OK
