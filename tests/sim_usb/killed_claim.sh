#!/bin/sh
# A program killed (SIGKILL) while it holds interface 0 does not keep it: a
# second program claims it within 1 s, as with the kernel, which releases
# claims and drops URBs when the file is closed (usbdev_release).
#   A: the holder is idle, with a submitted URB it never reaped;
#   B: the holder is killed with a request in flight (the sim is stopped while
#      the holder sends it, so it dies before the answer).
# Neither run may print a umockdev CRITICAL.
#   usage: killed_claim.sh SIM USB_CLAIM
set -u
sim="$1"
helper="$2"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() {
    echo "FAIL: $*"
    exit 1
}

# A: idle holder with an unreaped URB.
"$sim" -v run -- sh -c '
    u="$1" d="$2"
    "$u" 0483:df11 hold-urb >"$d/a_hold.out" 2>&1 &
    pid=$!
    for i in $(seq 1 300); do grep -q submitted "$d/a_hold.out" && break; sleep 0.01; done
    kill -9 $pid
    wait $pid
    "$u" 0483:df11 claim >"$d/a_claim.out" 2>&1; echo $? >"$d/a_claim.rc"
' sh "$helper" "$dir" 2>"$dir/a_sim.err" || fail "A: sim run"
cat "$dir/a_hold.out" "$dir/a_claim.out"
grep -q submitted "$dir/a_hold.out" || fail "A: holder did not submit its URB"
[ "$(cat "$dir/a_claim.rc")" = 0 ] || fail "A: second program could not claim interface 0"
grep -q "program gone.*1 claim.*1 URB" "$dir/a_sim.err" || {
    grep -v "SUBMITURB\|ioctl" "$dir/a_sim.err"
    fail "A: the killed program's claim and URB were not released"
}

# B: holder killed with a request in flight. The shell is the sim's child:
# stop the sim, let the holder send its request, kill it, continue the sim.
"$sim" run -- sh -c '
    u="$1" d="$2" sim=$PPID
    grep -q h7dfu-sim "/proc/$sim/comm" || { echo "parent is not the sim" >"$d/b.err"; exit 1; }
    "$u" 0483:df11 hold-xfer "$d/go" >"$d/b_hold.out" 2>&1 &
    pid=$!
    for i in $(seq 1 300); do grep -q claimed "$d/b_hold.out" && break; sleep 0.01; done
    kill -STOP "$sim"
    : >"$d/go"
    # wait until the holder is blocked on the answer to its request
    for i in $(seq 1 200); do grep -q unix_stream "/proc/$pid/wchan" 2>/dev/null && break; sleep 0.01; done
    cat "/proc/$pid/wchan" >"$d/b_wchan" 2>/dev/null
    kill -9 $pid
    wait $pid
    kill -CONT "$sim"
    "$u" 0483:df11 claim >"$d/b_claim.out" 2>&1; echo $? >"$d/b_claim.rc"
' sh "$helper" "$dir" 2>"$dir/b_sim.err" || { cat "$dir/b.err" 2>/dev/null; fail "B: sim run"; }
cat "$dir/b_hold.out" "$dir/b_claim.out"
echo "holder was in: $(cat "$dir/b_wchan" 2>/dev/null)"
grep -q claimed "$dir/b_hold.out" || fail "B: holder did not claim"
[ "$(cat "$dir/b_claim.rc")" = 0 ] || {
    cat "$dir/b_sim.err"
    fail "B: second program could not claim interface 0 within 1 s"
}
for f in "$dir/a_sim.err" "$dir/b_sim.err"; do
    if grep -q CRITICAL "$f"; then
        grep CRITICAL "$f"
        fail "umockdev CRITICAL in $(basename "$f")"
    fi
done
echo OK
