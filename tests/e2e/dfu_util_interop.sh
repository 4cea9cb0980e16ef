#!/bin/sh
# Interop with unmodified dfu-util (0.11) on the same virtual board:
# what one tool writes the other reads back byte for byte; dfu-util lists the
# alt string, leaves with :leave, and takes the .dfu files h7dfu makes.
. "$(dirname "$0")/lib.sh"
command -v dfu-util >/dev/null || { echo "SKIP: dfu-util not found"; exit 77; }
alt='name="@Internal Flash  /0x081E0000/01*128Kg/0x08020000/14*128Kg/0x08000000/01*128Ka"'

# A serial that is also a chip UID (24 hex digits): the same with --firmware.
"$sim" --fast --serial 0E2E00000000000000000D0F --flash "$fl" run -- dfu-util -l >"$dir/out" 2>&1 ||
    fail "dfu-util -l"
expect_words "dfu-util -l" "$dir/out" "Found DFU: [0483:df11]" "alt=0" "$alt" \
    'serial="0E2E00000000000000000D0F"'

# dfu-util -D, h7dfu read.
rand "$dir/a.bin" 70000
board dfu-util -a 0 -s 0x08020000 -D "$dir/a.bin" >"$dir/out" 2>&1 || {
    cat "$dir/out"
    fail "dfu-util -D"
}
h7 -q read --force 0x08020000:70000 "$dir/back.bin"
expect_rc 0 "h7dfu read after dfu-util -D"
cmp "$dir/a.bin" "$dir/back.bin" || fail "h7dfu read differs from what dfu-util wrote"

# h7dfu write, dfu-util -U.
rand "$dir/b.bin" 50000
h7 -q write -s 0x08040000 "$dir/b.bin"
expect_rc 0 "h7dfu write"
board dfu-util -a 0 -s 0x08040000:50000 -U "$dir/up.bin" >"$dir/out" 2>&1 || {
    cat "$dir/out"
    fail "dfu-util -U"
}
cmp "$dir/b.bin" "$dir/up.bin" || fail "dfu-util -U differs from what h7dfu wrote"

# A DfuSe file made by h7dfu read, downloaded by dfu-util after an erase.
h7 -q read --force 0x08040000:50000 "$dir/b.dfu"
expect_rc 0 "h7dfu read into .dfu"
h7 -q erase 0x08040000:50000
expect_rc 0 "h7dfu erase"
board dfu-util -a 0 -D "$dir/b.dfu" >"$dir/out" 2>&1 || {
    cat "$dir/out"
    fail "dfu-util -D .dfu made by h7dfu"
}
# Words dfu-util prints only when it parsed the DfuSe element with the
# address and size h7dfu put there, and finished the download.
expect_words "dfu-util -D .dfu made by h7dfu" "$dir/out" \
    "Parsing element 1, address = 0x08040000, size = 50000" "Download done." \
    "Done parsing DfuSe file"
h7 -q read --force 0x08040000:50000 "$dir/back.bin"
expect_rc 0 "h7dfu read after dfu-util -D .dfu"
cmp "$dir/b.bin" "$dir/back.bin" || fail "dfu-util -D of h7dfu's .dfu: read back differs"

# dfu-util :leave: the board re-enumerates with a new number; h7dfu finds it.
# The emulated chip (H7_FW_ELF), like silicon, drops off the bus 10 ms after
# the leave's GETSTATUS, when dfu-util has returned (the native board is gone at
# once): there h7dfu is started once lsusb no longer shows the old device.
rand "$dir/c.bin" 4096
board sh -c '
    "$1" --json list > "$2/before.json" || exit 11
    old=$(lsusb -d 0483:df11)
    dfu-util -a 0 -s 0x08060000:leave -D "$2/c.bin" > "$2/du.txt" 2>&1 || exit 12
    i=0
    while [ -n "${H7_FW_ELF:-}" ] && [ $i -lt 50 ] && [ "$(lsusb -d 0483:df11)" = "$old" ]; do
        sleep 0.1
        i=$((i + 1))
    done
    "$1" -w 2 --json info > "$2/after.json" || exit 13
' sh "$h7dfu" "$dir" 2>"$dir/err"
rc=$?
[ $rc -eq 0 ] || { cat "$dir/du.txt" "$dir/err"; fail "dfu-util :leave then h7dfu info: $rc"; }
python3 -c '
import json, sys
b = json.load(open(sys.argv[1]))["devices"][0]
i = json.load(open(sys.argv[2]))
assert i["device"]["devnum"] > b["devnum"] and i["state"] == "dfuIDLE", (b, i)
' "$dir/before.json" "$dir/after.json" || fail "dfu-util :leave: no re-enumeration"
h7 -q read --force 0x08060000:4096 "$dir/back.bin"
expect_rc 0 "h7dfu read after :leave"
cmp "$dir/c.bin" "$dir/back.bin" || fail "data written by dfu-util before :leave"

# The address-less leave with a DfuSe file, as MicroPython's and many
# projects' deploy targets run it: after the download dfu-util sends ABORT
# and a zero-length DNLOAD from dfuIDLE. The board leaves (as ST's DfuSe
# devices do) and starts the stamped application.
if [ -n "${H7_FW_ELF:-}" ]; then
    # the emulated chip runs the body: the real demo application
    "$h7dfu" image stamp -V 2.7.1 "$(dirname "$H7_FW_ELF")/demo-app.elf" "$dir/app.dfu" >/dev/null ||
        fail "stamp the demo application"
else
    # the native board runs its own application when the record validates:
    # a body with a plausible vector table (SP in DTCM, reset in the body)
    printf '\000\000\002\040\001\001\002\010' >"$dir/body.bin"
    rand "$dir/rest.bin" 8184
    cat "$dir/rest.bin" >>"$dir/body.bin"
    "$h7dfu" image stamp -V 2.7.1 -s 0x08020000 "$dir/body.bin" "$dir/app.dfu" >/dev/null ||
        fail "stamp a body"
fi
board sh -c '
    dfu-util -a 0 -s :leave -D "$2/app.dfu" > "$2/du.txt" 2>&1 || exit 21
    i=0
    while [ $i -lt 50 ] && [ -z "$(lsusb -d 0483:5750)" ]; do
        sleep 0.1
        i=$((i + 1))
    done
    "$1" --json list > "$2/list.json" || exit 22
' sh "$h7dfu" "$dir" 2>"$dir/err"
rc=$?
[ $rc -eq 0 ] || { cat "$dir/du.txt" "$dir/err"; fail "dfu-util -s :leave -D app.dfu: $rc"; }
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))["devices"]
assert [x for x in d if x["pid"] == "5750" and x["mode"] != "dfu"], d
assert not [x for x in d if x["pid"] == "df11"], d
' "$dir/list.json" || { cat "$dir/list.json"; fail "dfu-util -s :leave: the application did not start"; }
echo OK
