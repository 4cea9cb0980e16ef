#!/bin/sh
# fwupd updates an h7dfu board: a stamped v1 application on the virtual
# board, a cabinet for v2 built by scripts/make-cab.sh, `fwupdtool install`
# (detach through the run-time interface, DfuSe download, leave), then the
# board runs v2: the bootloader's slot check passes for v2.0.0 (its record
# and the body's CRC, in the board's events) and starts it, h7dfu sees the
# application's bcdDevice 0x0200; `fwupdtool get-devices` lists it with
# version 2.0 and the GUID of USB\VID_0483&PID_5750.
# fwupdtool keeps its state and lock in the test's directory (FWUPD_*
# variables) and sees only the dfu plugin. Skips (77) without fwupdtool or
# gcab, or when not root (fwupdtool is meant to run as root).
. "$(dirname "$0")/lib.sh"
root=$(cd "$(dirname "$0")/../.." && pwd)
for t in fwupdtool gcab python3; do
    command -v "$t" >/dev/null 2>&1 || {
        echo "SKIP: $t is not installed"
        exit 77
    }
done
[ "$(id -u)" -eq 0 ] || {
    echo "SKIP: fwupdtool needs root"
    exit 77
}
mkdir -p "$dir/fw/state" "$dir/fw/lock" "$dir/fw/quirks" "$dir/fw/etc"
export FWUPD_LOCALSTATEDIR="$dir/fw/state" FWUPD_LOCKDIR="$dir/fw/lock" \
    FWUPD_LOCALSTATEDIR_QUIRKS="$dir/fw/quirks"
cp "$root/dist/fwupd/h7dfu.quirk" "$dir/fw/quirks/"

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
mkapp "$dir/v2.dfu" 2.0.0 2
H7DFU="$h7dfu" "$root/scripts/make-cab.sh" "$dir/v2.dfu" 2.0 "$dir/v2.cab" || fail "make-cab.sh"
# The script refuses a version the image does not carry.
H7DFU="$h7dfu" "$root/scripts/make-cab.sh" "$dir/v2.dfu" 1.0 "$dir/bad.cab" 2>"$dir/err" &&
    fail "make-cab.sh took version 1.0 for an image stamped 2.0.0"
expect_words "make-cab.sh wrong version" "$dir/err" "stamped 2.0, not 1.0"

# fwd CMD...: CMD (fwupdtool ...) with the board, its events in $dir/err too.
fwd() {
    "$sim" --fast --events --flash "$fl" "$@" >"$dir/out" 2>"$dir/err"
    rc=$?
    cat "$dir/err" >>"$dir/out"
}

# 1. v1 runs; fwupd sees it as version 1.0.
fwd --install "$dir/v1.hex" run -- fwupdtool get-devices --plugins dfu
expect_rc 0 "get-devices with v1"
expect_words "get-devices with v1" "$dir/out" "demo app" "Current version:    1.0" \
    "043c7673-bd45-5e2e-b8b9-c22df2dfec2a"

# 2. install the cabinet.
fwd run -- fwupdtool install "$dir/v2.cab" --plugins dfu --no-reboot-check --no-safety-check -v
expect_rc 0 "fwupdtool install"
expect_words "fwupdtool install" "$dir/out" "system reset with request start application" \
    "valid image v2.0.0 -> start the application"

# 3. the application is back with v2: h7dfu sees its bcdDevice, fwupd its version.
board "$h7dfu" list --json >"$dir/list" 2>&1 || { cat "$dir/list"; fail "h7dfu list"; }
expect_words "h7dfu list after install" "$dir/list" '"pid":"5750","bcd_device":"0200"'
fwd run -- fwupdtool get-devices --plugins dfu
expect_rc 0 "get-devices with v2"
expect_words "get-devices with v2" "$dir/out" "demo app" "Current version:    2.0"
echo "PASS"
