#!/bin/sh
# The command line of h7dfu: global options anywhere (after the command and
# its arguments too, as dfu-util and STM32CubeProgrammer take them), every
# other argument an error naming it (exit 2) or in effect, never ignored;
# --help and -h for every command and image subcommand (exit 0, usage on
# stdout), and each usage line lists all the options its help explains.
. "$(dirname "$0")/lib.sh"
SER=0E2E00000000000000001234
sim_serial() { "$sim" --fast --flash "$fl" --serial "$SER" run -- "$h7dfu" "$@" >"$dir/out" 2>"$dir/err"; rc=$?; }
json_ok() { # WHAT: stdout is one JSON object with ok true
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["ok"] is True, d' "$dir/out" ||
        { cat "$dir/out" "$dir/err"; fail "$1: not JSON with ok true"; }
}

# 1. Options after the positional arguments take effect.
python3 - "$dir/body.bin" <<'PY'
import random, struct, sys
body = bytearray(random.Random(7).randbytes(20000))
struct.pack_into("<II", body, 0, 0x20020000, 0x08020000 + 0x201)
open(sys.argv[1], "wb").write(body)
PY
"$h7dfu" -q image stamp -V 1.0.0 -s 0x08020000 "$dir/body.bin" "$dir/app.hex" || fail "stamp"
sim_serial write "$dir/app.hex" -S "$SER" --json
expect_rc 0 "write FILE -S SER --json"
json_ok "write FILE -S SER --json"
sim_serial write "$dir/app.hex" -S NOPE
expect_rc 4 "write FILE -S NOPE"
expect_words "write FILE -S NOPE" "$dir/err" "no DFU-mode device found"
rm -f "$fl" # (the board would start the application next time)
sim_serial write "$dir/body.bin" -s 0x08080000 --no-skip -q
expect_rc 0 "write FILE -s ADDR"
flash_has "$fl" 0x08080000 "$dir/body.bin"
# update FILE -s ADDR (a raw binary for the slot, unstamped: --force after
# it; the board has no application, so it is written in DFU mode directly).
sim_serial update "$dir/body.bin" -s 0x08020000 --force --wait-app 1
expect_words "update FILE -s ADDR --force" "$dir/err" "written and verified"
flash_has "$fl" 0x08020000 "$dir/body.bin"

# 2. info --json, list -S after the command.
rm -f "$fl"
sim_serial info --json
expect_rc 0 "info --json"
json_ok "info --json"
sim_serial list -S NOPE
expect_rc 4 "list -S NOPE"
expect_words "list -S NOPE" "$dir/err" "no DFU device with serial NOPE found"
grep -q "$SER" "$dir/out" && fail "list -S NOPE listed the board"
sim_serial list -S "$SER" --json
expect_rc 0 "list -S SER --json"
json_ok "list -S SER --json"
sim_serial list -d 1234:5678
expect_rc 4 "list -d 1234:5678"
expect_words "list -d 1234:5678" "$dir/err" "ID 1234:5678"

# 3. Unknown or misplaced arguments: exit 2, the argument named.
for args in "list extra" "info --bogus" "write $dir/app.hex other.hex" "read 0x08020000:16" \
    "erase --mass 0x08020000:16" "leave 0x08020000 more" "detach now" "option-bytes --bogus" \
    "update --wait-dfu" "image stamp -V 1.0.0 a b c" "image info a b" "image frobnicate" \
    "list -a 0" "detach -a 0" "option-bytes -a 1" "image info -S $SER $dir/app.hex" \
    "write -s 0x08020000:4096 $dir/body.bin" "erase 0x08020000:1G"; do
    # shellcheck disable=SC2086
    sim_serial $args
    expect_rc 2 "$args"
    grep -q "error:" "$dir/err" || { cat "$dir/err"; fail "$args: no error message"; }
done
# -s ADDR for a file that carries its own addresses would have no effect.
for args in "write -s 0x08040000 $dir/app.hex" "update $dir/app.hex -s 0x08040000" \
    "image info $dir/app.hex -s 0x08040000"; do
    # shellcheck disable=SC2086
    sim_serial $args
    expect_rc 2 "$args"
    expect_words "$args" "$dir/err" "-s 0x08040000 would have no effect" "ihex"
done
sim_serial list extra
expect_words "list extra" "$dir/err" "'extra'"
sim_serial info --bogus
expect_words "info --bogus" "$dir/err" "'--bogus'"
sim_serial image info -S "$SER" "$dir/app.hex"
expect_words "image info -S" "$dir/err" "-S/--serial" "uses no device"
sim_serial --json list extra
expect_rc 2 "--json list extra"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["ok"] is False and d["exit"] == 2, d' \
    "$dir/out" || fail "usage error as JSON"

# 4. --help / -h everywhere: exit 0, usage on stdout; usage lines list every
# option the help explains.
for c in list info write read erase leave detach option-bytes update image "image stamp" \
    "image info"; do
    for h in --help -h; do
        # shellcheck disable=SC2086
        "$h7dfu" $c $h >"$dir/help" 2>"$dir/herr"
        rc=$?
        expect_rc 0 "$c $h"
        grep -q "^usage: h7dfu \[OPTIONS\] $c" "$dir/help" || { cat "$dir/help"; fail "$c $h: no usage line on stdout"; }
        [ -s "$dir/herr" ] && { cat "$dir/herr"; fail "$c $h: wrote to stderr"; }
    done
    # The usage lines (up to the first empty line) name each long option of the help.
    awk '/^$/ { exit } { print }' "$dir/help" >"$dir/usage"
    # Options explained as "  -X, --long" or "  --long" or "  -X VALUE".
    for opt in $(sed -nE 's/^  (-[a-zA-Z])(,| ).*/\1/p; s/^  (--[a-z][a-z-]+).*/\1/p' "$dir/help" | sort -u); do
        case "$opt" in -v | --help | --version | --verbose) continue ;; esac
        grep -qF -- "$opt" "$dir/usage" || { cat "$dir/help"; fail "$c: usage line lacks $opt"; }
    done
done
# A global option after a command's --help still prints that help.
"$h7dfu" write --help --json >"$dir/help" || fail "write --help --json"
grep -q "^usage: h7dfu \[OPTIONS\] write" "$dir/help" || fail "write --help --json"
echo OK
