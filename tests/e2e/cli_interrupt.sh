#!/bin/sh
# Ctrl-C (SIGINT) in the middle of a write: h7dfu stops between two blocks,
# leaves the board in dfuIDLE, says how far it got and exits with 130 (with
# --json: an error document); the same command run again finishes the job.
. "$(dirname "$0")/lib.sh"
A=0x08020000
rand "$dir/big.bin" 1048576

# interrupt TAG ARGS...: in one board run (real flash timings, so the write
# lasts long enough), start `h7dfu ARGS` in the background, send it SIGINT
# once the board has programmed 4096 flash words (128 KiB; the sim's flash log
# shows each as it happens), then run `info`. Exit status in $dir/TAG.rc,
# its output in $dir/TAG.out and $dir/TAG.err, info's in $dir/TAG.info.
interrupt() {
    _it_tag=$1
    shift
    rm -f "$dir/flash.log"
    "$sim" --flash "$fl" --flash-log "$dir/flash.log" run -- sh -c '
        d="$1" tag="$2" h="$3" sw="$4"
        shift 4
        "$sw" "$d/flash.log" 4096 INT "$d/$tag.out" "$d/$tag.err" -- "$h" "$@"
        echo $? >"$d/$tag.rc"
        "$h" --json info >"$d/$tag.info" 2>&1
        echo $? >"$d/$tag.info.rc"
    ' sh "$dir" "$_it_tag" "$h7dfu" "$(dirname "$0")/signal_at_words.sh" "$@" ||
        fail "sim run ($_it_tag)"
    rc=$(cat "$dir/$_it_tag.rc")
}

# A plain write, interrupted.
interrupt plain write -s "$A" "$dir/big.bin"
[ "$rc" -eq 130 ] || {
    cat "$dir/plain.err"
    fail "write interrupted by SIGINT: exit $rc, want 130 (was the write over before the signal?)"
}
expect_words "interrupted write" "$dir/plain.err" "interrupted: " " of 1048576 bytes written" \
    "the board is in DFU mode (dfuIDLE)" "run the same command again to finish"
grep -qF "of 1048576 bytes written" "$dir/plain.err" &&
    ! grep -qF "interrupted: 0 of" "$dir/plain.err" &&
    ! grep -qF "interrupted: 1048576 of" "$dir/plain.err" ||
    fail "the interrupted write should stop partway: $(cat "$dir/plain.err")"
[ "$(cat "$dir/plain.info.rc")" = 0 ] || {
    cat "$dir/plain.info"
    fail "info right after the interrupted write"
}
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["state"]=="dfuIDLE", d' \
    "$dir/plain.info" || fail "after the interrupted write the board is not in dfuIDLE"

# The same with --json: stdout holds one error document.
interrupt json --json write -s "$A" "$dir/big.bin"
[ "$rc" -eq 130 ] || { cat "$dir/json.err"; fail "write --json interrupted: exit $rc, want 130"; }
python3 - "$dir/json.out" <<'PY' || fail "write --json interrupted: no JSON error document"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["ok"] is False, d
assert "interrupted" in json.dumps(d) and "130" in json.dumps(d), d
PY

# The next command needs no recovery: the same write completes, the flash
# holds the image, and info answers.
h7 write -s "$A" "$dir/big.bin"
expect_rc 0 "the same write after the interruption"
expect_words "the same write after the interruption" "$dir/err" "verified"
h7 info
expect_rc 0 "info after the completed write"
h7 -q read --force "$A:1M" "$dir/back.bin"
expect_rc 0 "read back after the completed write"
cmp -s "$dir/big.bin" "$dir/back.bin" || fail "read back differs from the image"
readback "$A" "$dir/big.bin"
echo OK
