#!/bin/sh
# `h7dfu update` on several boards, through libusb against virtual boards.
#  1. One board beside another maker's dock (h7dfu-sim --foreign-dfu-runtime):
#     --all takes the board only; a serial list with a board that is not there
#     fails that board only; the document has a result per board; -S lists
#     are refused by other commands, --all with -S is a usage error, a bad
#     file is refused before any board is touched.
#  2. Four boards (h7dfu-sim --board), updated with --all --parallel 4; one
#     loses power and one is unplugged in the middle of the write: the two
#     others succeed, each board has its line and its result, the exit status
#     is not 0. The same command again finishes the two (the others are
#     already up to date).
#  3. Two boards in DFU mode and one running the application: without a
#     selection exit 2 with the three listed, none touched; -S one updates that
#     one only; --all updates the three.
# Part 1 needs one board; parts 2 and 3 need h7dfu-sim --board (exit 77,
# skipped, without it).
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || { echo "SKIP: python3 is needed"; exit 77; }

# Two different 256 KiB bodies (two sectors of the slot), stamped 1.0.0 and 2.0.0.
python3 - "$dir" <<'PY'
import random, struct, sys
for seed, name in ((1, "b1.bin"), (2, "b2.bin")):
    body = bytearray(random.Random(seed).randbytes(256 * 1024))
    struct.pack_into("<II", body, 0, 0x20020000, 0x08020000 + 0x201)
    open(sys.argv[1] + "/" + name, "wb").write(body)
PY
"$h7dfu" -q image stamp -V 1.0.0 -s 0x08020000 "$dir/b1.bin" "$dir/v1.hex" || fail "stamp v1"
"$h7dfu" -q image stamp -V 2.0.0 -s 0x08020000 "$dir/b2.bin" "$dir/v2.hex" || fail "stamp v2"
v1="$dir/v1.hex" v2="$dir/v2.hex"

# json_check FILE PYTHON: PYTHON (with d = the one JSON document of FILE, and
# b = its boards by serial) must not raise.
json_check() {
    python3 - "$1" "$2" <<'PY' && return
import json, sys
lines = [l for l in open(sys.argv[1]).read().splitlines() if l.strip()]
assert len(lines) == 1, "want one JSON line, got %d" % len(lines)
d = json.loads(lines[0])
b = {x["serial"]: x for x in d.get("boards", [])}
exec(sys.argv[2])
PY
    cat "$1" "$dir/err"
    fail "JSON: $2"
}

# --- 1. one board beside the dock -------------------------------------------
"$sim" --fast --flash "$fl" --install "$v1" run -- true || fail "install v1"
docked() {
    "$sim" --fast --flash "$fl" --foreign-dfu-runtime run -- sh -c "$1" sh "$h7dfu" "$v2" \
        >"$dir/out" 2>"$dir/err"
    rc=$?
}
docked '"$1" update --all --parallel 2 "$2" && "$1" list >&2'
expect_rc 0 "update --all beside the dock"
expect_words "update --all beside the dock" "$dir/err" "updating 1 board(s)" \
    "H7SIM0001: updated to 2.0.0" "all 1 board(s) updated"
grep -q "^updating.*DOCK0001" "$dir/err" && fail "--all took the dock"
grep -q '^1209:0001 runtime ' "$dir/err" || { cat "$dir/err"; fail "the dock was touched"; }

docked '"$1" --json update -S H7SIM0001,NOSUCH01 -w 1 "$2"'
expect_rc 4 "a serial list with a board that is not there"
json_check "$dir/out" '
assert d["command"] == "update" and d["ok"] is False and d["exit"] == 4
assert [x["serial"] for x in d["boards"]] == ["H7SIM0001", "NOSUCH01"]
assert b["H7SIM0001"]["ok"] and b["H7SIM0001"]["exit"] == 0 and b["H7SIM0001"]["path"] == "1-1"
assert b["H7SIM0001"]["result"]["up_to_date"] is True
assert b["H7SIM0001"]["result"]["app_version"]["major"] == 2
assert b["NOSUCH01"]["exit"] == 4 and b["NOSUCH01"]["path"] is None
assert b["NOSUCH01"]["result"]["error"]["category"] == "no-device"
assert d["boards_ok"] == 1 and d["boards_failed"] == 1'

docked '"$1" update -S H7SIM0001 -S NOSUCH01 "$2"'
expect_rc 4 "repeated -S"
expect_words "repeated -S" "$dir/err" "H7SIM0001: already up to date (2.0.0)" \
    "NOSUCH01: FAILED (exit 4, no-device)" "1 of 2 board(s)" "run the same command again"

docked '"$1" detach -S H7SIM0001,DOCK0001; echo "rc=$?" >&2; "$1" list >&2'
expect_words "detach with two serials" "$dir/err" "rc=2" "only \`update\` works on several"
grep -q '^1209:0001 runtime ' "$dir/err" || { cat "$dir/err"; fail "the dock was touched"; }
docked '"$1" update --all -S H7SIM0001 "$2"'
expect_rc 2 "--all with -S"
docked '"$1" update -S H7SIM0001,,X "$2"'
expect_rc 2 "an empty serial in the list"
docked '"$1" update --parallel 0 --all "$2"'
expect_rc 2 "--parallel 0"
echo "not an image" >"$dir/bad.hex"
"$sim" --fast --flash "$fl" --foreign-dfu-runtime run -- "$h7dfu" update --all "$dir/bad.hex" \
    >"$dir/out" 2>"$dir/err"
rc=$?
expect_rc 3 "a bad file"
grep -q "^updating" "$dir/err" && fail "a bad file: boards were started"

# Ctrl-C: handed on once to the board's run, which stops between two blocks
# (exit 130); the same command again finishes. Real flash timings, so that the
# write lasts; SIGINT once 2048 flash words (of 8192) are programmed.
"$sim" --fast --flash "$fl" --install "$v1" run -- true || fail "install v1 again"
rm -f "$dir/flash.log"
"$sim" --flash "$fl" --flash-log "$dir/flash.log" run -- sh -c '
    "$4" "$3/flash.log" 2048 INT "$3/int.out" "$3/int.err" -- \
        "$1" --json update -S H7SIM0001 --parallel 1 "$2"
    echo $? >"$3/int.rc"
' sh "$h7dfu" "$v2" "$dir" "$(dirname "$0")/signal_at_words.sh" || fail "sim run (Ctrl-C)"
rc=$(cat "$dir/int.rc")
expect_rc 130 "Ctrl-C during the update of a list"
json_check "$dir/int.out" '
assert d["exit"] == 130 and b["H7SIM0001"]["exit"] == 130
e = b["H7SIM0001"]["result"]["error"]
assert "interrupted" in e["message"] and "of 262144 bytes written" in e["message"], e'
h7 update -S H7SIM0001 --parallel 1 "$v2"
expect_rc 0 "the interrupted update again"
expect_words "the interrupted update again" "$dir/err" "H7SIM0001: updated to 2.0.0"

if ! "$sim" --help 2>&1 | grep -q -- "--board"; then
    echo "SKIP: h7dfu-sim has no --board (several boards); the one-board part passed"
    exit 77
fi

# --- 2. four boards, one power cut and one unplug mid-write -------------------
# The write of v2 over v1 is 2 sector erases and 8192 word programs (flash
# operation 5000 is in the second sector, after the first is whole) and about
# 450 USB requests of its board (the 250th is in the write; the other boards'
# runs read its descriptors too, so where exactly varies).
for s in 1 2 3 4; do
    rm -f "$dir/f$s"
done
spec() { echo "serial=SN0$1,flash=$dir/f$1${2-}"; }
"$sim" --fast --board "$(spec 1 ,install="$v1")" --board "$(spec 2 ,install="$v1")" \
    --board "$(spec 3 ,install="$v1")" --board "$(spec 4 ,install="$v1")" run -- true ||
    fail "install v1 on four boards"
four() {
    "$sim" --fast --board "$(spec 1)" --board "$(spec 2 "$1")" --board "$(spec 3 "$2")" \
        --board "$(spec 4)" run -- "$h7dfu" --json update --all --parallel 4 "$v2" \
        >"$dir/out" 2>"$dir/err"
    rc=$?
}
four ,power-cut=5000 ,unplug=250
[ "$rc" -ne 0 ] || { cat "$dir/out" "$dir/err"; fail "four boards, two cut: exit 0"; }
cp "$dir/out" "$dir/four.json"
cp "$dir/err" "$dir/four.err"
json_check "$dir/four.json" '
assert d["ok"] is False and d["exit"] != 0
assert sorted(b) == ["SN01", "SN02", "SN03", "SN04"], sorted(b)
assert d["parallel"] == 4 and d["boards_ok"] == 2 and d["boards_failed"] == 2
for s in ("SN01", "SN04"):
    r = b[s]["result"]
    assert b[s]["ok"] and r["ok"] and r["serial"] == s, s
    assert r["up_to_date"] is False and r["app_version"]["major"] == 2, s
    assert r["sectors_erased"] == 2, s
for s in ("SN02", "SN03"):
    assert not b[s]["ok"] and b[s]["exit"] != 0 and b[s]["started"], s
    assert b[s]["result"]["exit"] == b[s]["exit"] and "error" in b[s]["result"], s
assert d["exit"] == b["SN02"]["exit"]  # the first failed board, by serial'
# The same without --json: a line per board.
for s in 1 2 3 4; do cp "$dir/f$s" "$dir/f$s.cut"; done
"$sim" --fast --board "$(spec 1)" --board "$(spec 2)" --board "$(spec 3)" --board "$(spec 4)" \
    run -- "$h7dfu" update --all --parallel 4 "$v2" >"$dir/out" 2>"$dir/err"
rc=$?
expect_rc 0 "the run again"
expect_words "the run again" "$dir/err" "SN01: already up to date (2.0.0)" \
    "SN04: already up to date (2.0.0)" "SN02: updated to 2.0.0" "SN03: updated to 2.0.0" \
    "all 4 board(s) updated"
for s in 1 2 3 4; do
    flash_has "$dir/f$s" 0x08020000 "$dir/b2.bin"
done
# The board whose power was cut in its second sector again, with --json: the
# first sector, already right, is skipped.
cp "$dir/f2.cut" "$dir/f2"
"$sim" --fast --board "$(spec 2)" run -- "$h7dfu" --json update -S SN02 --parallel 1 "$v2" \
    >"$dir/out" 2>"$dir/err"
rc=$?
expect_rc 0 "the power-cut board again"
json_check "$dir/out" '
r = b["SN02"]["result"]
assert r["ok"] and r["old_version"] is None and r["app_version"]["major"] == 2
assert r["sectors_skipped"] == 1 and r["sectors_erased"] == 1, r'

# --- 3. two boards in DFU mode, one running the application -------------------
rm -f "$dir/f5" "$dir/f6" "$dir/f7"
"$sim" --fast --board "serial=SN07,flash=$dir/f7,install=$v1" run -- true || fail "install SN07"
three() {
    "$sim" --fast --board "serial=SN05,flash=$dir/f5" --board "serial=SN06,flash=$dir/f6" \
        --board "serial=SN07,flash=$dir/f7" run -- sh -c "$1" sh "$h7dfu" "$v2" \
        >"$dir/out" 2>"$dir/err"
    rc=$?
}
three '"$1" update "$2"; echo "rc=$?" >&2; "$1" list >&2'
expect_words "three boards, no selection" "$dir/err" "rc=2" "3 boards could be meant" \
    'serial="SN05"' 'serial="SN06"' 'serial="SN07"' "nothing was touched"
grep -q "written and verified" "$dir/err" && fail "three boards, no selection: written"
[ "$(grep -c '^0483:df11 DFU ' "$dir/err")" -eq 2 ] || { cat "$dir/err"; fail "not 2 in DFU mode"; }
grep -q '^0483:5750 runtime .*SN07.*version h7dfu demo 1.0.0' "$dir/err" ||
    { cat "$dir/err"; fail "SN07 was touched"; }

three '"$1" update -S SN06 "$2" && "$1" list >&2'
expect_rc 0 "-S SN06"
expect_words "-S SN06" "$dir/err" "is back, version 2.0.0"
grep -q '^0483:df11 DFU .*serial="SN05"' "$dir/err" || { cat "$dir/err"; fail "SN05 was touched"; }
grep -q '^0483:5750 runtime .*SN06.*version h7dfu demo 2.0.0' "$dir/err" ||
    { cat "$dir/err"; fail "SN06 not updated"; }
grep -q '^0483:5750 runtime .*SN07.*version h7dfu demo 1.0.0' "$dir/err" ||
    { cat "$dir/err"; fail "SN07 was touched"; }

three '"$1" --json update --all --parallel 3 "$2"'
expect_rc 0 "--all over three"
json_check "$dir/out" '
assert d["ok"] and sorted(b) == ["SN05", "SN06", "SN07"]
assert b["SN06"]["result"]["up_to_date"] is True
for s in ("SN05", "SN07"):
    assert b[s]["result"]["up_to_date"] is False and b[s]["result"]["app_version"]["major"] == 2
assert b["SN07"]["result"]["old_version"]["major"] == 1'
echo "update_many: ok"
