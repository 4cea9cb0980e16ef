#!/bin/sh
# The device refuses, h7dfu says so in words: the decoded DFU state and status
# names, exit 6 (device error) or 5 (refused before anything was sent); and
# the next command works (the CLI clears dfuERROR).
#  - write to a sector write-protected in the option bytes (the sim's flash
#    file carries the WRP mask): errWRITE from the device, sector untouched;
#  - read at an address outside the flash: refused from the layout, exit 5;
#  - erase inside the bootloader's sector: refused by the layout, exit 5.
set -u
sim="$1" h7dfu="$2"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fl="$dir/flash.h7"
fail() { echo "FAIL: $*"; exit 1; }
words() { # FILE WORD...
    f="$1"; shift
    for word in "$@"; do
        grep -qF -- "$word" "$f" || { cat "$f"; fail "message lacks '$word'"; }
    done
}
sector3() { "$sim" flash dump "$fl" 0x08060000 131072; }

head -c 3000 /dev/urandom >"$dir/img.bin"
head -c 131072 /dev/urandom >"$dir/s3.bin"
"$sim" --fast --flash "$fl" run -- "$h7dfu" -q write -s 0x08060000 "$dir/s3.bin" || fail "fill sector 3"
# Write-protect sector 3 in the flash file, as the option bytes would.
"$sim" flash protect "$fl" 3 on || fail "setting WRP"

"$sim" --fast --flash "$fl" run -- sh -c '
    h="$1" d="$2"
    "$h" write -s 0x08060000 "$d/img.bin" 2> "$d/wp.err"; echo $? > "$d/wp.rc"
    "$h" --json write -s 0x08060000 "$d/img.bin" > "$d/wp.json" 2>/dev/null
    "$h" read --force 0x08200000:16 "$d/x.bin" 2> "$d/rd.err"; echo $? > "$d/rd.rc"
    "$h" erase 0x08000100:16 2> "$d/er.err"; echo $? > "$d/er.rc"
    "$h" info > "$d/info.out" 2>&1; echo $? > "$d/info.rc"
    "$h" -q write -s 0x08080000 "$d/img.bin" && "$h" -q read --force 0x08080000:3000 "$d/back.bin"
' sh "$h7dfu" "$dir" || fail "write + read after the errors"

[ "$(cat "$dir/wp.rc")" = 6 ] || { cat "$dir/wp.err"; fail "write to WRP sector: exit $(cat "$dir/wp.rc"), want 6"; }
words "$dir/wp.err" "dfuERROR" "errWRITE" "write protected" "0x08060000"
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["ok"] is False and d["exit"] == 6 and "errWRITE" in d["error"]["message"], d
assert d["error"]["category"] == "device" and d["error"]["dfu"]["status"] == "errWRITE", d
' "$dir/wp.json" || fail "--json error of the WRP write"
sector3 | cmp - "$dir/s3.bin" || fail "the write-protected sector changed"

[ "$(cat "$dir/rd.rc")" = 5 ] || { cat "$dir/rd.err"; fail "read outside flash: exit $(cat "$dir/rd.rc"), want 5"; }
words "$dir/rd.err" "0x08200000" "not readable memory"

[ "$(cat "$dir/er.rc")" = 5 ] || { cat "$dir/er.err"; fail "erase in sector 0: exit $(cat "$dir/er.rc"), want 5"; }
words "$dir/er.err" "0x08000100" "erasable"

[ "$(cat "$dir/info.rc")" = 0 ] || { cat "$dir/info.out"; fail "info after the errors"; }
words "$dir/info.out" "state       dfuIDLE" "status      OK"
cmp "$dir/img.bin" "$dir/back.bin" || fail "write after the errors: read back differs"
echo OK
