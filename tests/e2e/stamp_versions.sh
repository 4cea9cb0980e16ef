#!/bin/sh
# `h7dfu image stamp -V` with versions as tags and `git describe` write them
# (docs/app-integration.md, "Versions from git"): the record's version as
# `image info` shows it, the note naming what the record does not keep, and
# refusals with their reason (exit 2, no output file).
. "$(dirname "$0")/lib.sh"
rand "$dir/body.bin" 4096
# Vectors the bootloader accepts: SP in DTCM, reset handler in the slot.
printf '\000\000\002\040\001\001\002\010' | dd of="$dir/body.bin" conv=notrunc 2>/dev/null

# stamp_ok VERSION RECORD [NOTE]: stamped as RECORD, NOTE (if any) said.
stamp_ok() {
    rm -f "$dir/o.hex"
    "$h7dfu" image stamp -V "$1" -s 0x08020000 "$dir/body.bin" "$dir/o.hex" >"$dir/out" 2>"$dir/err" ||
        { cat "$dir/out" "$dir/err"; fail "stamp -V $1"; }
    "$h7dfu" image info "$dir/o.hex" >"$dir/info" 2>&1 || { cat "$dir/info"; fail "info after -V $1"; }
    grep -q "^version  *$2\$" "$dir/info" || { cat "$dir/info"; fail "-V $1: record version, want $2"; }
    if [ $# -ge 3 ]; then
        expect_words "-V $1" "$dir/err" "is stamped as $2" "$3"
    elif grep -q "no room" "$dir/err"; then
        cat "$dir/err"
        fail "-V $1: a note, but nothing was dropped"
    fi
}
stamp_ok v1.2.3 1.2.3
stamp_ok 1.2.3 1.2.3
stamp_ok 1.2.3+9 1.2.3+9
stamp_ok 1.2.3-rc1 1.2.3 "the pre-release 'rc1'"
stamp_ok v1.2.3-4-gabcdef 1.2.3+4 "the commit abcdef" "commits after the tag"
stamp_ok v1.2.3-4-gabcdef-dirty 1.2.3+4 "'-dirty' mark"

# stamp_bad VERSION WHY: refused with exit 2, WHY in the message, no output.
stamp_bad() {
    rm -f "$dir/o.hex"
    "$h7dfu" image stamp -V "$1" -s 0x08020000 "$dir/body.bin" "$dir/o.hex" >"$dir/out" 2>"$dir/err"
    rc=$?
    [ "$rc" -eq 2 ] || { cat "$dir/out" "$dir/err"; fail "-V '$1': exit $rc, want 2"; }
    expect_words "-V '$1'" "$dir/err" "$2"
    [ ! -e "$dir/o.hex" ] || fail "-V '$1': refused but wrote the output"
}
stamp_bad abcdef1 "git describe --tags"
stamp_bad "" "want [v]MAJOR.MINOR.PATCH"
stamp_bad 1.2 "want [v]MAJOR.MINOR.PATCH"
stamp_bad 256.0.0 "MAJOR is at most 255"
stamp_bad 1.2.3+rc1 "must be a number"
echo OK
