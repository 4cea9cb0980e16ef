#!/bin/sh
# Faults of one board leave the others alone: three boards written at the
# same time by three h7dfu processes (-S SERIAL); board 2 has its power cut
# at its 3rd flash operation. Boards 1 and 3 end with the image (they start
# it), board 2 without; each board's flash file and --stats record say so.
#   multi_board_faults.sh SIM H7DFU
set -u
sim="$1" h7dfu="$2"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() {
    echo "FAIL: $*"
    cat "$dir/out" "$dir/list" "$dir/stats" 2>/dev/null
    exit 1
}
python3 - "$dir/body.bin" <<'PY'
import struct, sys
body = bytearray(65536)
struct.pack_into("<II", body, 0, 0x20020000, 0x08020000 + 0x201)
open(sys.argv[1], "wb").write(body)
PY
"$h7dfu" -q image stamp -V 1.2.3 -s 0x08020000 "$dir/body.bin" "$dir/app.hex" || fail "stamp"
boards="--board serial=FTA001,flash=$dir/a.h7 --board serial=FTB002,flash=$dir/b.h7 --board serial=FTC003,flash=$dir/c.h7"
# shellcheck disable=SC2086
"$sim" --fast --events --stats "$dir/stats" \
    --board serial=FTA001,flash="$dir/a.h7" \
    --board serial=FTB002,flash="$dir/b.h7",power-cut=3 \
    --board serial=FTC003,flash="$dir/c.h7" run -- sh -c "
        for s in FTA001 FTB002 FTC003; do
            \"$h7dfu\" -q -S \$s write \"$dir/app.hex\"; echo \"\$s rc=\$?\" >\"$dir/rc.\$s\" &
        done; wait; cat \"$dir\"/rc.*" >"$dir/out" 2>&1 || fail "exit status $?"
cat "$dir/out"
grep -q '^FTA001 rc=0$' "$dir/out" || fail "board 1 not written"
grep -q '^FTC003 rc=0$' "$dir/out" || fail "board 3 not written"
grep -q '^FTB002 rc=0$' "$dir/out" && fail "board 2 written through its power cut"
grep -q '^\[FTB002\] .*POWER CUT at flash operation 3' "$dir/out" || fail "no power cut on board 2"
grep -q '^\[FT[AC]00.\] .*POWER CUT' "$dir/out" && fail "a power cut on another board"
# --stats: one object per board, in port order
[ "$(wc -l <"$dir/stats")" -eq 3 ] || fail "stats: not 3 lines"
grep -q '^{"serial":"FTA001","path":"1-1",.*"power_cuts":0,' "$dir/stats" || fail "stats board 1"
grep -q '^{"serial":"FTB002","path":"1-2",.*"power_cuts":1,' "$dir/stats" || fail "stats board 2"
grep -q '^{"serial":"FTC003","path":"1-3",.*"power_cuts":0,' "$dir/stats" || fail "stats board 3"
# each flash file as its board left it: the boards boot from them again
# shellcheck disable=SC2086
"$sim" --fast $boards run -- "$h7dfu" list >"$dir/list" 2>&1 || fail "list: exit status $?"
cat "$dir/list"
for s in FTA001 FTC003; do
    grep -q "serial=\"$s\" \"h7dfu demo app\" version h7dfu demo 1.2.3" "$dir/list" ||
        fail "$s: does not start the image"
done
grep -A1 'serial="FTB002"' "$dir/list" | grep -q 'no valid image' || fail "FTB002: an image"
echo PASS
