#!/bin/sh
# `make demo`: the reported field failure (docs/rom-bootloader.md) on the virtual
# STM32H743, start to end, through libusb:
#   1. the demo application v1 runs on the board (HID + DFU run-time);
#   2. `h7dfu update app-v2.hex` takes it to v2, and the HID app v2 is back;
#   3. the field failure: the next update (v3) loses power right after the
#      application's first sector was erased; the board comes back on USB in
#      DFU mode (never invisible, never running half an image);
#   4. the same `h7dfu update app-v3.hex` again finishes the job.
# Exits non-zero when any step does not behave as expected.
#
#   scripts/demo.sh [BUILD [FW_BUILD]]     (defaults: build, build-fw)
set -u
BUILD=${1:-build}
FW_BUILD=${2:-build-fw}
root=$(cd "$(dirname "$0")/.." && pwd)
case $BUILD in /*) ;; *) BUILD=$root/$BUILD ;; esac
case $FW_BUILD in /*) ;; *) FW_BUILD=$root/$FW_BUILD ;; esac

H7DFU=$BUILD/host/cli/h7dfu
SIM=$BUILD/sim/board/h7dfu-sim
HELPER=$BUILD/tests/update/app_helper
APP_ELF=$FW_BUILD/firmware/demo-app.elf
BL_BIN=$FW_BUILD/firmware/bootloader.bin
BL_ELF=$FW_BUILD/firmware/bootloader.elf
SERIAL=H7DEMO0001
# DEMO_MODES: "native" (the firmware's portable C on the virtual board),
# "firmware" (the cross-built binaries on the emulated Cortex-M7), or both.
DEMO_MODES=${DEMO_MODES:-native firmware}
mode_opt="" # h7dfu-sim options of the mode

if [ -t 1 ]; then
    B=$(printf '\033[1m') G=$(printf '\033[32m') R=$(printf '\033[31m') N=$(printf '\033[0m')
else
    B='' G='' R='' N=''
fi
step=0
title() {
    step=$((step + 1))
    printf '\n%s== %s. %s%s\n' "$B" "$step" "$*" "$N"
}
say() { printf '%s\n' "$*"; }
ok() { printf '%s   ok: %s%s\n' "$G" "$*" "$N"; }
die() {
    printf '%s   DEMO FAILED: %s%s\n' "$R" "$*" "$N"
    exit 1
}

for f in "$H7DFU" "$SIM" "$HELPER"; do
    [ -x "$f" ] || die "$f is missing: run \`make host\` first"
done

work=$(mktemp -d "${TMPDIR:-/tmp}/h7dfu-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
log=$work/log

# board [SIM OPTIONS] -- SHELL SCRIPT: run the script with the virtual board
# plugged in (flash kept in board.h7 across runs); everything is shown and
# kept in $log for the checks.
board() {
    opts=""
    while [ "$1" != "--" ]; do
        opts="$opts $1"
        shift
    done
    shift
    # shellcheck disable=SC2086
    H7DFU=$H7DFU HELPER=$HELPER SERIAL=$SERIAL \
        "$SIM" $mode_opt --events --serial "$SERIAL" --flash board.h7 $opts run -- sh -c "$1" 2>&1 |
        tee "$log" | sed 's/^/   | /'
}
expect() { grep -qF -- "$1" "$log" || die "$2 (missing: \"$1\")"; }
expect_not() { ! grep -qF -- "$1" "$log" || die "$2 (unexpected: \"$1\")"; }

title "Application images"
if "$H7DFU" image stamp -V 1.0.0 "$APP_ELF" app-v1.hex >stamp.log 2>&1; then
    "$H7DFU" image stamp -V 2.0.0 "$APP_ELF" app-v2.hex >/dev/null 2>&1 &&
        "$H7DFU" image stamp -V 3.0.0 "$APP_ELF" app-v3.hex >/dev/null 2>&1 ||
        die "stamping $APP_ELF failed"
    say "   the firmware demo app ($APP_ELF), stamped as v1.0.0, v2.0.0, v3.0.0:"
else
    # The demo app must be linked with its vector table at the slot start
    # 0x08020000 (its record goes to sector 15); until it is, a generated body
    # with a valid vector table stands in for it. The sim runs the demo app's C
    # code either way: it never executes the ARM code in the slot.
    say "   NOTE: $APP_ELF cannot be stamped yet:"
    sed 's/^/     /' stamp.log
    say "   falling back to a small generated test application (vector table at 0x08020000)"
    {
        printf '\000\000\002\040\001\001\002\010' # SP 0x20020000, reset 0x08020101 (Thumb)
        head -c 504 /dev/zero
        printf 'h7dfu generated test application\n'
        head -c 40000 /dev/zero | tr '\000' 'A'
    } >test-app.bin
    for v in 1 2 3; do
        "$H7DFU" image stamp -V $v.0.0 -s 0x08020000 test-app.bin app-v$v.hex >/dev/null 2>&1 ||
            die "stamping the generated test application failed"
    done
fi
"$H7DFU" image info app-v1.hex | sed 's/^/   | /'
native_bl_opt=""
if [ -f "$BL_BIN" ]; then
    native_bl_opt="--bootloader $BL_BIN"
    say "   the bootloader image ($BL_BIN) goes into sector 0 (for realism: the"
    say "   virtual board runs the bootloader's portable C code, not the ARM code)"
fi

# The update cycle, its failure and the recovery, on the board of one mode.
scenario() {
    mode=$1
    rm -f board.h7
    title "Factory state: the board runs application v1 (HID + DFU runtime)"
    # shellcheck disable=SC2086
    board --install app-v1.hex $bl_opt -- '$H7DFU list && $HELPER version $SERIAL'
    expect "0483:5750" "the application is not on USB"
    expect "version 1.0.0" "the HID application does not report v1.0.0"
    ok "HID application v1.0.0 is running"

    title "h7dfu update app-v2.hex: detach, write + verify, restart, HID app back"
    t0=$(date +%s)
    board -- '$H7DFU update app-v2.hex && $HELPER version $SERIAL'
    expect "is back, version 2.0.0" "h7dfu did not see the HID application v2 come back"
    expect "version 2.0.0 \"h7dfu demo 2.0.0\"" "the HID application does not report v2.0.0"
    ok "HID application v2.0.0 is back ($(($(date +%s) - t0)) s)"

    title "The field failure: power lost right after the app's first sector was erased"
    say "   (h7dfu-sim --power-cut 1:after: the first flash operation of the update is"
    say "   the erase of sector 1, where the application starts)"
    board --power-cut 1:after -- '$H7DFU update app-v3.hex; echo "h7dfu exit status: $?";
        sleep 1; echo "--- what is on USB now:"; $H7DFU list'
    expect "POWER CUT at flash operation 1" "the power cut did not happen"
    expect_not "h7dfu exit status: 0" "h7dfu did not notice the failure"
    expect "What to do" "h7dfu did not say what to do"
    [ "$mode" = firmware ] ||
        expect "stay in DFU mode (no valid application)" "the bootloader did not stay in DFU mode"
    expect "0483:df11" "the board is not back on USB in DFU mode"
    sed -n '/--- what is on USB now:/,$p' "$log" | grep -qF "0483:5750" &&
        die "the board runs an application after a failed update"
    ok "the write failed, h7dfu said so; the board is back on USB in DFU mode, no half image runs"

    title "The same command again: h7dfu update app-v3.hex"
    board -- '$H7DFU update app-v3.hex && $HELPER version $SERIAL'
    expect "already in DFU mode" "h7dfu did not pick up the board in DFU mode"
    expect "is back, version 3.0.0" "h7dfu did not see the HID application v3 come back"
    expect "version 3.0.0 \"h7dfu demo 3.0.0\"" "the HID application does not report v3.0.0"
    ok "HID application v3.0.0 is back"

}

for mode in $DEMO_MODES; do
    case $mode in
    native)
        mode_opt=""
        bl_opt=$native_bl_opt
        SERIAL=H7DEMO0001
        printf '\n%s#### The virtual H743 running the firmware'"'"'s portable C (native board)%s\n' "$B" "$N"
        ;;
    firmware)
        [ -f "$BL_ELF" ] || die "$BL_ELF is missing: run \`make firmware\` first"
        # the exact binaries; the USB serial is the chip's unique ID
        mode_opt="--firmware $BL_ELF"
        bl_opt=""
        SERIAL=0D3E00000000000000000001
        printf '\n%s#### The same on the exact firmware binaries: %s on an emulated Cortex-M7%s\n' \
            "$B" "$BL_ELF" "$N"
        ;;
    *) die "unknown demo mode '$mode'" ;;
    esac
    scenario "$mode"
done

printf '\n%sDemo complete: update, failure, recovery, all through libusb on the virtual H743 (%s).%s\n' \
    "$B$G" "$DEMO_MODES" "$N"
