#!/bin/sh
# Which device update and detach touch when none is selected. Beside the
# board sits another maker's dock with a DFU run-time interface
# (h7dfu-sim --foreign-dfu-runtime, 1209:0001 serial DOCK0001):
#  1. detach and update without a selection act on the h7dfu board only; the
#     dock is never detached (still in run-time mode afterwards).
#  2. With its VID:PID listed (--id, H7DFU_IDS) the dock is a candidate too:
#     two candidates and no selection is exit 2, both listed, nothing touched.
#  3. Selected explicitly (-S DOCK0001) it is detached.
. "$(dirname "$0")/lib.sh"
python3 - "$dir/body.bin" <<'PY'
import random, struct, sys
body = bytearray(random.Random(7).randbytes(64 * 1024))
struct.pack_into("<II", body, 0, 0x20020000, 0x08020000 + 0x201)
open(sys.argv[1], "wb").write(body)
PY
"$h7dfu" -q image stamp -V 1.0.0 -s 0x08020000 "$dir/body.bin" "$dir/v1.hex" || fail "stamp v1"
"$h7dfu" -q image stamp -V 2.0.0 -s 0x08020000 "$dir/body.bin" "$dir/v2.hex" || fail "stamp v2"
"$sim" --fast --flash "$fl" --install "$dir/v1.hex" run -- true || fail "install v1"

# docked SCRIPT: run sh -c SCRIPT ($1 = h7dfu, $2 = v2.hex) with the board and
# the dock; output in $dir/err, status in $rc.
docked() {
    "$sim" --fast --flash "$fl" --foreign-dfu-runtime run -- sh -c "$1" sh "$h7dfu" \
        "$dir/v2.hex" >"$dir/err" 2>&1
    rc=$?
}
# dock_is MODE WHAT: the list at the end of the script shows the dock in MODE.
dock_is() {
    grep -q "^1209:0001 $1 " "$dir/err" || { cat "$dir/err"; fail "$2: the dock is not in $1 mode"; }
}

# 1. detach, then update, without a selection: the board, never the dock.
# (-w: the board's bootloader takes a moment to come up after the detach)
docked '"$1" detach && "$1" -w 5 update "$2" && "$1" list'
expect_rc 0 "detach and update beside the dock"
expect_words "detach and update beside the dock" "$dir/err" "detached 0483:5750 serial H7SIM0001" \
    "written and verified" "is back, version 2.0.0"
grep -q "detached 1209:0001" "$dir/err" && fail "the dock was detached without a selection"
dock_is runtime "after detach and update"

# 2. the dock listed: a candidate beside the board; exit 2 and both listed.
docked '"$1" detach --id 1209:0001; echo "rc=$?"; "$1" list'
expect_words "detach --id" "$dir/err" "rc=2" "2 boards could be meant" "DOCK0001" "H7SIM0001" \
    "-S SERIAL"
dock_is runtime "after detach --id"
docked 'H7DFU_IDS=1209:0001 "$1" update "$2"; echo "rc=$?"; "$1" list'
expect_words "H7DFU_IDS update" "$dir/err" "rc=2" "2 boards could be meant" "DOCK0001" \
    "H7SIM0001" "nothing was touched"
grep -q "written and verified" "$dir/err" && fail "update wrote with two candidates"
dock_is runtime "after H7DFU_IDS update"
docked '"$1" detach --id 12x9:1; echo "rc=$?"'
expect_words "bad --id" "$dir/err" "rc=2" "--id wants VID:PID"

# 3. selected explicitly: the dock is detached, the user's choice.
docked '"$1" -S DOCK0001 detach && sleep 0.5 && "$1" list'
expect_rc 0 "detach -S DOCK0001"
expect_words "detach -S DOCK0001" "$dir/err" "detached 1209:0001 serial DOCK0001"
dock_is DFU "after detach -S DOCK0001"
echo "update_select: ok"
