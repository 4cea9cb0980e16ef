#!/bin/sh
# h7dfu in scripts: the same command run twice succeeds without harm.
# detach on a board already in DFU mode exits 0 and says so; update with the
# version the application already runs says "already up to date", exits 0
# and resets nothing, unless --force; read refuses to overwrite a file
# without --force; lengths take K and M (read and erase ADDR:LEN).
. "$(dirname "$0")/lib.sh"
mkapp() { # OUT VERSION N: a stamped application, N its random body's pick
    python3 - "$dir/body.bin" "$3" <<'PY'
import random, struct, sys
body = bytearray(random.Random(int(sys.argv[2])).randbytes(150 * 1024))
struct.pack_into("<II", body, 0, 0x20020000, 0x08020000 + 0x201)
open(sys.argv[1], "wb").write(body)
PY
    "$h7dfu" -q image stamp -V "$2" -s 0x08020000 "$dir/body.bin" "$1" || fail "stamp $1"
}
mkapp "$dir/v1.hex" 1.0.0 1
mkapp "$dir/v2.hex" 2.0.0 2
# h7 with the board's events (resets, boot decisions) in $dir/err as well.
h7() {
    "$sim" --fast --events --flash "$fl" run -- "$h7dfu" "$@" >"$dir/out" 2>"$dir/err"
    rc=$?
}
no_reset() { # WHAT: the board was not reset
    grep -q "system reset" "$dir/err" && { cat "$dir/err"; fail "$1: the board was reset"; }
    return 0
}

# 1. detach: a board in DFU mode (no application) -> exit 0, said.
h7 detach
expect_rc 0 "detach in DFU mode"
expect_words "detach in DFU mode" "$dir/err" "already in DFU mode"
no_reset "detach in DFU mode"
h7 --json detach
expect_rc 0 "--json detach in DFU mode"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["ok"] and d["already_dfu"] is True, d' \
    "$dir/out" || fail "detach --json"
# ... and twice in one sim run from the application: detached, then already.
"$sim" --fast --flash "$fl" --install "$dir/v1.hex" run -- sh -c \
    '"$1" detach && sleep 0.3 && "$1" -w 2 detach' sh "$h7dfu" >"$dir/out" 2>"$dir/err"
rc=$?
expect_rc 0 "detach twice"
expect_words "detach twice" "$dir/err" "detached" "already in DFU mode"

# 2. update: v1 running, update v1 -> up to date, no reset, exit 0.
rm -f "$fl"
"$sim" --fast --flash "$fl" --install "$dir/v1.hex" run -- true || fail "install v1"
h7 update "$dir/v1.hex"
expect_rc 0 "update to the running version"
expect_words "update to the running version" "$dir/err" "already up to date" "version 1.0.0"
no_reset "update to the running version"
grep -q "written and verified" "$dir/err" && fail "update to the running version: claims a write"
h7 --json update "$dir/v1.hex"
expect_rc 0 "--json update, up to date"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["ok"] and d["up_to_date"] is True and d["bytes_written"] == 0, d' \
    "$dir/out" || fail "update --json up to date"
# --force goes through the cycle (reset into DFU and back), the app returns.
h7 update "$dir/v1.hex" --force
expect_rc 0 "update --force"
expect_words "update --force" "$dir/err" "writing anyway" "system reset" "is back, version 1.0.0"
# v2: written, then the same again is up to date.
h7 update "$dir/v2.hex"
expect_rc 0 "update to v2"
expect_words "update to v2" "$dir/err" "written and verified" "is back, version 2.0.0"
h7 update "$dir/v2.hex"
expect_rc 0 "update to v2 again"
expect_words "update to v2 again" "$dir/err" "already up to date" "version 2.0.0"
no_reset "update to v2 again"
flash_has "$fl" 0x08020000 "$dir/body.bin"
# A board waiting in DFU mode that already holds the image: nothing written,
# said so, the application started.
"$sim" --fast --flash "$fl" run -- sh -c '"$1" detach && "$1" -w 3 update "$2"' sh "$h7dfu" \
    "$dir/v2.hex" >"$dir/out" 2>"$dir/err"
rc=$?
expect_rc 0 "update from DFU mode, image there"
expect_words "update from DFU mode, image there" "$dir/err" "already in DFU mode" \
    "already held" "nothing was written" "is back, version 2.0.0"

# 3. read: an existing file is refused (exit 2, untouched), --force overwrites.
rm -f "$fl"
rand "$dir/data.bin" 4096
h7 -q write -s 0x08040000 "$dir/data.bin"
expect_rc 0 "write data"
echo keep >"$dir/old.bin"
h7 read 0x08040000:4K "$dir/old.bin"
expect_rc 2 "read onto an existing file"
expect_words "read onto an existing file" "$dir/err" "old.bin exists" "--force"
[ "$(cat "$dir/old.bin")" = keep ] || fail "read overwrote the file without --force"
h7 read 0x08040000:4K "$dir/old.bin" --force
expect_rc 0 "read --force"
cmp "$dir/data.bin" "$dir/old.bin" || fail "read --force: content"
# 4. K and M: read ADDR:LEN, erase ADDR:LEN.
h7 -q read 0x08040000:1M "$dir/m.bin"
expect_rc 0 "read 1M"
[ "$(wc -c <"$dir/m.bin")" -eq 1048576 ] || fail "read 1M: $(wc -c <"$dir/m.bin") bytes"
h7 -q erase 0x08040000:128K
expect_rc 0 "erase 128K"
h7 -q read 0x08040000:128k "$dir/e.bin"
expect_rc 0 "read 128k"
erased "$dir/e.bin" 131072 || fail "erase 0x08040000:128K left data"
for bad in 0x08040000:0K 0x08040000:4G 0x08040000:K 0x08040000:4KB; do
    h7 read "$bad" "$dir/bad.bin"
    expect_rc 2 "read $bad"
    expect_words "read $bad" "$dir/err" "bad range '$bad'"
done
echo OK
