#!/bin/sh
# h7dfu --json: every command prints exactly one JSON document on stdout that
# follows the one schema (docs/h7dfu.1, JSON OUTPUT), on success and on
# failure; and list and info show what is installed (text and JSON): the
# running application's version, the slot of a board in DFU mode.
. "$(dirname "$0")/lib.sh"
mkapp() { # OUT VERSION: a stamped application with a random body
    python3 - "$dir/body.bin" <<'PY'
import os, struct, sys
body = bytearray(os.urandom(40 * 1024))
struct.pack_into("<II", body, 0, 0x20020000, 0x08020000 + 0x201)
open(sys.argv[1], "wb").write(body)
PY
    "$h7dfu" -q image stamp -V "$2" -s 0x08020000 "$dir/body.bin" "$1" || fail "stamp $1"
}
mkapp "$dir/v1.hex" 1.2.3
mkapp "$dir/v2.hex" 2.0.1

# check WHAT CMD WANT_EXIT [PY]: $dir/out is one document of the schema for
# command CMD with exit status WANT_EXIT (and $rc is that); PY, a python
# expression over the document d, must hold too.
check() {
    expect_rc "$3" "$1"
    python3 - "$dir/out" "$2" "$3" "${4:-True}" <<'PY' || { cat "$dir/out" "$dir/err"; fail "$1: JSON document"; }
import json, re, sys
text = open(sys.argv[1]).read()
lines = text.splitlines()
assert len(lines) == 1, "not one line on stdout: %r" % text
d = json.loads(lines[0])
cmd, want = sys.argv[2], int(sys.argv[3])
ADDR = re.compile(r"^0x[0-9A-F]{8}$")
DEVICE_CMDS = {"list", "info", "write", "read", "erase", "leave", "detach", "update", "option-bytes"}
def is_int(v): return isinstance(v, int) and not isinstance(v, bool)
def num(v): return isinstance(v, (int, float)) and not isinstance(v, bool)
def addrs(o, key=""):
    # every address-like field is an upper-case 8-digit hex string
    if isinstance(o, dict):
        for k, v in o.items():
            if k in ("address", "load_address", "start", "end", "boot0", "boot1", "device_id",
                     "body_crc", "optsr", "optsr_prg"):
                assert v is None or (isinstance(v, str) and ADDR.match(v)), (k, v)
            addrs(v, k)
    elif isinstance(o, list):
        for v in o: addrs(v, key)
def version(v):
    if v is None: return
    assert all(is_int(v[k]) for k in ("major", "minor", "patch")), v
    assert isinstance(v["text"], str) and v["text"], v
    assert "build" not in v or is_int(v["build"]), v
assert d["schema"] == 1, d
assert d["command"] == cmd, (d["command"], cmd)
assert d["exit"] == want and is_int(d["exit"]), d
assert d["ok"] is (want == 0), d
addrs(d)
for k in ("bytes", "bytes_written", "bytes_verified", "sectors_erased", "sectors_skipped",
          "image_size"):
    assert k not in d or d[k] is None or is_int(d[k]), (k, d)
assert "seconds" not in d or num(d["seconds"]), d
for k in ("version", "old_version", "new_version", "app_version"):
    if k in d: version(d[k])
if want == 0:
    assert "error" not in d, d
    if cmd in DEVICE_CMDS and cmd != "list":
        assert isinstance(d["serial"], str) and isinstance(d["path"], str) and d["path"], d
    if cmd == "list":
        for x in d["devices"]:
            assert isinstance(x["serial"], str) and x["path"], x
            version(x["version"])
else:
    e = d["error"]
    cat = {1: "fail", 2: "usage", 3: "file", 4: "no-device", 5: "refused", 6: "device",
           7: "verify", 8: "usb"}[want]
    assert e["category"] == cat, e
    assert isinstance(e["message"], str) and e["message"], e
    assert e["hint"] is None or (isinstance(e["hint"], str) and e["hint"]), e
    assert e["dfu"] is None or (isinstance(e["dfu"]["state"], str) and
                                isinstance(e["dfu"]["status"], str) and
                                is_int(e["dfu"]["status_code"])), e
assert eval(sys.argv[4]), d
PY
}

# in_dfu NAME ARGS...: h7dfu ARGS in the board's run that `steps` starts.
# steps SCRIPT: one run of the board (booted once), SCRIPT calling in_dfu;
# then `take NAME` makes $dir/NAME.out the output to check, its exit in $rc.
steps() {
    "$sim" --fast --flash "$fl" run -- sh -c "
        in_dfu() { n=\$1; shift; \"$h7dfu\" \"\$@\" >\"$dir/\$n.out\" 2>\"$dir/\$n.err\"; echo \$? >\"$dir/\$n.rc\"; }
        $1" || fail "board run: $1"
}
take() {
    cp "$dir/$1.out" "$dir/out"
    cp "$dir/$1.err" "$dir/err"
    rc=$(cat "$dir/$1.rc")
}

# 1. A board in DFU mode without an image: list, info, write, read, erase, leave.
rand "$dir/data.bin" 8192
h7 --json list
check "list" list 0 'd["devices"][0]["mode"] == "dfu" and d["devices"][0]["slot"]["valid"] is False'
h7 --json info
check "info, DFU mode" info 0 'd["mode"] == "dfu" and d["state"] == "dfuIDLE" and d["slot"]["valid"] is False'
h7 --json write -s 0x08040000 "$dir/data.bin"
check "write" write 0 'd["bytes_written"] == 8192 and d["sectors_erased"] == 1 and d["sectors_skipped"] == 0 and d["address"] == "0x08040000"'
h7 --json write -s 0x08040000 "$dir/data.bin"
check "write again" write 0 'd["bytes_written"] == 0 and d["sectors_skipped"] == 1 and d["sectors_erased"] == 0'
h7 --json read 0x08040000:4K "$dir/r.bin"
check "read" read 0 'd["address"] == "0x08040000" and d["bytes"] == 4096'
h7 --json erase 0x08040000:1K
check "erase" erase 0 'd["address"] == "0x08040000" and d["mass"] is False'
h7 --json erase --mass
check "erase --mass" erase 0 'd["mass"] is True and d["address"] is None'
h7 --json leave
check "leave, empty slot" leave 3 'd["error"]["category"] == "file" and "no image" in d["error"]["message"]'
h7 --json leave --force
check "leave --force, empty slot" leave 6 'd["error"]["category"] == "device" and "back in DFU mode" in d["error"]["message"]'

# 2. The application: written; the board then starts it. list and info show
# its version.
h7 --json write "$dir/v1.hex"
check "write an application" write 0 'd["bytes_written"] > 40960 and d["address"] == "0x08020000"'
h7 --json list
check "list, application" list 0 'd["devices"][0]["mode"] == "runtime" and d["devices"][0]["version"]["major"] == 1 and d["devices"][0]["version"]["patch"] == 3 and d["devices"][0]["slot"] is None'
h7 list
expect_words "list, application" "$dir/out" "runtime" "version" "1.2.3"
h7 --json info
check "info, application" info 0 'd["mode"] == "runtime" and d["version"]["minor"] == 2 and d["needs_dfu_mode"] is True'
h7 info
expect_rc 0 "info, application"
expect_words "info, application" "$dir/out" "0483:5750" "serial      H7SIM0001" "1.2.3" \
    "h7dfu detach"

# 3. update: already up to date, then v2.
h7 --json update "$dir/v1.hex"
check "update, up to date" update 0 'd["up_to_date"] is True and d["bytes_written"] == 0 and d["old_version"]["text"] and d["new_version"]["text"] == "1.2.3"'
h7 --json update "$dir/v2.hex"
check "update" update 0 'd["up_to_date"] is False and d["bytes_written"] > 0 and d["old_version"]["patch"] == 3 and d["new_version"]["major"] == 2 and d["app_version"]["major"] == 2 and d["sectors_erased"] >= 1'

# 4. detach; the board in DFU mode shows its slot: valid, version 2.0.1.
steps 'in_dfu detach --json detach; sleep 0.3
       in_dfu again -w 2 --json detach
       in_dfu list --json list; in_dfu list_text list
       in_dfu info --json info; in_dfu info_text info'
take detach
check "detach" detach 0 'd["already_dfu"] is False'
take again
check "detach, DFU mode" detach 0 'd["already_dfu"] is True'
take list
check "list, DFU mode with an image" list 0 'd["devices"][0]["slot"]["valid"] is True and d["devices"][0]["slot"]["version"]["text"] == "2.0.1" and d["devices"][0]["version"]["major"] == 2'
expect_words "list, DFU mode with an image" "$dir/list_text.out" "slot: valid image, version 2.0.1"
take info
check "info, DFU mode with an image" info 0 'd["slot"]["valid"] is True and d["slot"]["version"]["patch"] == 1 and d["version"]["text"] == "2.0.1"'
expect_words "info, DFU mode with an image" "$dir/info_text.out" "slot        valid image, version 2.0.1"

# 5. image stamp and image info, valid and not.
"$h7dfu" --json image stamp -V 3.4.5+6 -s 0x08020000 "$dir/body.bin" "$dir/v3.bin" >"$dir/out" 2>"$dir/err"
rc=$?
check "image stamp" "image stamp" 0 'd["version"] == {"major": 3, "minor": 4, "patch": 5, "build": 6, "text": "3.4.5+6"}'
"$h7dfu" --json image info "$dir/v3.bin" >"$dir/out" 2>"$dir/err"
rc=$?
check "image info" "image info" 0 'd["valid"] is True and d["load_address"] == "0x08020000" and d["version"]["build"] == 6'
"$h7dfu" --json image info -s 0x08020000 "$dir/body.bin" >"$dir/out" 2>"$dir/err"
rc=$?
check "image info, not stamped" "image info" 3 'd["valid"] is False and d["error"]["message"]'

# 6. Failures: usage, missing file, no device, the device refuses.
h7 --json write
check "write without FILE" write 2
h7 --json write "$dir/missing.hex"
check "write a missing file" write 3
h7 --json update "$dir/v2.hex" --bogus
check "update, unknown option" update 2
"$h7dfu" --json info >"$dir/out" 2>"$dir/err"
rc=$?
check "info, no device" info 4 '"serial" not in d'
rm -f "$fl" # a board without an application again
h7 --json read 0x08200000:16 "$dir/x.bin"
check "read outside the flash" read 5 'd["serial"] == "H7SIM0001"'
# A sector write-protected in the sim's flash file (h7dfu-sim flash protect):
# the device reports errWRITE, decoded in the error document.
rand "$dir/s3.bin" 4096
"$sim" flash protect "$fl" 3 on || fail "setting WRP"
h7 --json write -s 0x08060000 "$dir/s3.bin"
check "write to a protected sector" write 6 'd["error"]["dfu"]["status"] == "errWRITE" and d["error"]["hint"]'

# 7. option-bytes on ST's ROM bootloader; refused on the h7dfu bootloader.
"$sim" --rom --boot0 --fast --flash "$dir/rom.h7" run -- "$h7dfu" --json option-bytes \
    >"$dir/out" 2>"$dir/err"
rc=$?
check "option-bytes" option-bytes 0 'd["option_bytes"]["rdp_level"] == 0 and d["option_bytes"]["boot0"] == "0x08000000" and d["written"] is False'
h7 --json option-bytes
check "option-bytes, h7dfu bootloader" option-bytes 5
echo OK
