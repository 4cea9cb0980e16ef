#!/bin/sh
# h7dfu list (text and --json), info (text and --json), and device selection
# by serial (-S), VID:PID (-d) and bus path (-p) over libusb.
. "$(dirname "$0")/lib.sh"
sim_serial() { "$sim" --fast --serial 0E2E00000000000000001234 run -- "$h7dfu" "$@" >"$dir/out" 2>"$dir/err"; rc=$?; }

sim_serial list
expect_rc 0 "list"
expect_words "list" "$dir/out" '0483:df11 DFU' 'path=1-1' 'serial="0E2E00000000000000001234"' \
    'alt=0 name="@Internal Flash  /0x081E0000/01*128Kg/0x08020000/14*128Kg/0x08000000/01*128Ka"'

sim_serial --json list
expect_rc 0 "list --json"
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["ok"] is True, d
devs = d["devices"]
assert len(devs) == 1, devs
v = devs[0]
assert (v["vid"], v["pid"], v["mode"], v["serial"]) == ("0483", "df11", "dfu", "0E2E00000000000000001234"), v
assert v["transfer_size"] == 2048 and v["bcd_dfu"] == "011a", v
assert v["path"] == "1-1" and v["bus"] == 1 and v["devnum"] >= 2, v
assert v["alts"] == [{"alt": 0, "name": "@Internal Flash  /0x081E0000/01*128Kg/0x08020000/14*128Kg/0x08000000/01*128Ka"}], v
' "$dir/out" || { cat "$dir/out"; fail "list --json content"; }

sim_serial info
expect_rc 0 "info"
expect_words "info" "$dir/out" 'device      0483:df11' 'serial      0E2E00000000000000001234' 'transfer size 2048' \
    'version 1.1a' '0x081e0000   1 x 131072 bytes' '0x08020000  14 x 131072 bytes' \
    '0x08000000   1 x 131072 bytes' \
    'state       dfuIDLE' 'status      OK'

sim_serial --json info
expect_rc 0 "info --json"
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["ok"] and d["state"] == "dfuIDLE" and d["status"] == "OK", d
assert d["serial"] == d["device"]["serial"] == "0E2E00000000000000001234" and d["path"] == "1-1", d
' "$dir/out" || { cat "$dir/out"; fail "info --json content"; }

# Selection: the right serial, VID:PID and path find it ...
for sel in "-S 0E2E00000000000000001234" "-d 0483:df11" "-p 1-1" "-d 0483:DF11 -S 0E2E00000000000000001234 -p 1-1"; do
    # shellcheck disable=SC2086
    sim_serial $sel info
    expect_rc 0 "info $sel"
    expect_words "info $sel" "$dir/out" 'serial      0E2E00000000000000001234'
done
# ... a wrong one does not: exit 4 and a message that says why.
for sel in "-S WRONG" "-d 1234:5678" "-p 2-7"; do
    # shellcheck disable=SC2086
    sim_serial $sel info
    expect_rc 4 "info $sel"
    expect_words "info $sel" "$dir/err" 'no DFU-mode device found' '-d/-S/-p'
done
sim_serial -S WRONG --json info
expect_rc 4 "--json info -S WRONG"
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["ok"] is False and d["exit"] == 4 and d["command"] == "info", d
assert d["error"]["category"] == "no-device" and "no DFU-mode device" in d["error"]["message"], d
' "$dir/out" || { cat "$dir/out"; fail "error as JSON"; }
# list with a filter that matches nothing: exit 4, as the other commands,
# naming what was asked for; stdout lists nothing.
sim_serial -S WRONG list
expect_rc 4 "list -S WRONG"
expect_words "list -S WRONG" "$dir/err" 'no DFU device with serial WRONG found'
[ -s "$dir/out" ] && fail "list -S WRONG printed a device"
# Bad option values are usage errors (2).
sim_serial -d nothex info
expect_rc 2 "-d nothex"
echo OK
