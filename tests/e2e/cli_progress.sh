#!/bin/sh
# Progress of h7dfu write and read: on a terminal (a pty made by script(1))
# each phase's bar ends at 100% with its time and rate, and shows a rate and
# an ETA while it runs; without a terminal exactly one line per phase; the
# elapsed time at the end; -v adds the device, the plan and how it was
# verified; -q prints nothing but errors.
. "$(dirname "$0")/lib.sh"
command -v script >/dev/null || { echo "SKIP: script (util-linux) is not installed"; exit 77; }
python3 - "$dir/body.bin" <<'PY'
import random, struct, sys
body = bytearray(random.Random(3).randbytes(300 * 1024))
struct.pack_into("<II", body, 0, 0x20020000, 0x08020000 + 0x201)
open(sys.argv[1], "wb").write(body)
PY
"$h7dfu" -q image stamp -V 1.0.0 -s 0x08020000 "$dir/body.bin" "$dir/app.hex" || fail "stamp"
# h7 on the board in DFU mode: the written application starts at power-on,
# so it is detached first (a no-op on a board in DFU mode).
h7() {
    board sh -c 'h="$1"; shift; "$h" -q detach && "$h" -w 3 "$@"' sh "$h7dfu" "$@" \
        >"$dir/out" 2>"$dir/err"
    rc=$?
}

# 1. Terminal: the bars.
script -qec "\"$sim\" --fast --flash \"$fl\" run -- \"$h7dfu\" write \"$dir/app.hex\"" /dev/null \
    >"$dir/tty" 2>&1 || { cat "$dir/tty"; fail "write on a terminal"; }
tr '\r' '\n' <"$dir/tty" | sed 's/\x1b\[K//g' | grep -v '^$' >"$dir/lines"
for ph in write verify commit; do
    last=$(grep "^$ph " "$dir/lines" | tail -1)
    echo "$last" | grep -qE '\] 100%  .* in [0-9.]+ s, [0-9.]+ [KM]?i?B/s' ||
        { cat "$dir/lines"; fail "$ph: the bar does not end at 100% with its time and rate: $last"; }
done
grep -E '^write .*/s  ETA [0-9]+:[0-9]{2}' "$dir/lines" >/dev/null ||
    { cat "$dir/lines"; fail "no rate and ETA while writing"; }
grep -q "erased" "$dir/lines" || { cat "$dir/lines"; fail "the erases are not shown"; }
grep -qE "^wrote .* in [0-9.]+ s" "$dir/lines" || { cat "$dir/lines"; fail "no elapsed time at the end"; }
grep -E '9[0-9]%' "$dir/lines" | grep -vE '^(write|verify|commit|read) ' && fail "a bar outside a phase line"

# 2. No terminal: one line per phase, then the elapsed time.
rm -f "$fl"
h7 write "$dir/app.hex" --no-skip
expect_rc 0 "write, no terminal"
for ph in write verify commit; do
    n=$(grep -cE "^$ph: [0-9]+ bytes in [0-9.]+ s \([0-9.]+ [KM]?i?B/s\)" "$dir/err")
    [ "$n" -eq 1 ] || { cat "$dir/err"; fail "$ph: $n lines without a terminal, want 1"; }
done
grep -qE "^write: 307200 bytes .*, 384.0 KiB erased" "$dir/err" || { cat "$dir/err"; fail "write line"; }
grep -qE "^wrote 307264 bytes, .* in [0-9.]+ s" "$dir/err" || { cat "$dir/err"; fail "elapsed time"; }
h7 read 0x08020000:300K "$dir/back.bin"
expect_rc 0 "read, no terminal"
[ "$(grep -c '^read: 307200 bytes in' "$dir/err")" -eq 1 ] || { cat "$dir/err"; fail "read line"; }
expect_words "read" "$dir/err" "read 307200 bytes at 0x08020000 into"
cmp "$dir/body.bin" "$dir/back.bin" || fail "read back"

# 3. -v: the device, the plan, what was skipped, how it was verified.
h7 write -v "$dir/app.hex"
expect_rc 0 "write -v"
expect_words "write -v" "$dir/err" "device 0483:df11 serial" "transfer size 2048" \
    "plan: 3 sector(s) touched" "sector at 0x08020000, 131072 bytes" \
    "sector at 0x08060000, 131072 bytes" "are skipped" "verified by the device's CRC-32" \
    "image record at 0x081e0000 (already there: not rewritten)" "3 sector(s) already equal"
# 4. -q (after the command): errors only.
h7 write "$dir/app.hex" -q --no-skip
expect_rc 0 "write -q"
[ -s "$dir/err" ] && { cat "$dir/err"; fail "write -q printed"; }
echo OK
