#!/bin/sh
# Wall time of writing 1 MiB against the virtual board (--fast): h7dfu (erase
# + write + verify, and --no-verify) and dfu-util (erase + write), each
# REPEAT times (default 3), timed inside the sim run around the command alone.
# Every result is read back: h7dfu's by dfu-util, dfu-util's by h7dfu. dfu-util gets a sim run per download: it exits
# without releasing its interface claim, and the bridge keeps such claims
# until the device re-enumerates (reported), so nothing could follow it.
#   speed_1mib.sh SIM H7DFU [REPEAT]
. "$(dirname "$0")/lib.sh"
repeat="${3:-3}"
command -v dfu-util >/dev/null || { echo "SKIP: dfu-util not found"; exit 77; }
rand "$dir/1m.bin" 1048576
check() { # the flash holds 1m.bin at 0x08020000
    h7 -q read --force 0x08020000:1048576 "$dir/back.bin"
    expect_rc 0 "read back"
    cmp -s "$dir/1m.bin" "$dir/back.bin" || fail "$1: read back differs"
    h7 -q erase 0x08020000:1048576
    expect_rc 0 "erase"
}
timed() { # LABEL COMMAND...: appends "LABEL seconds" to $dir/times
    label="$1"
    shift
    board sh -c '
        l="$1" t="$2"; shift 2
        t0=$(date +%s.%N)
        "$@" > /dev/null 2>&1 || exit 1
        t1=$(date +%s.%N)
        echo "$l $t0 $t1" >> "$t"
    ' sh "$label" "$dir/times" "$@" || fail "$label"
    if [ "$label" = h7dfu ]; then
        # It read everything back itself; dfu-util reads it again.
        readback 0x08020000 "$dir/1m.bin"
        h7 -q erase 0x08020000:1048576
        expect_rc 0 "erase"
    else
        check "$label"
    fi
}
: >"$dir/times"
i=0
while [ $i -lt "$repeat" ]; do
    i=$((i + 1))
    timed h7dfu "$h7dfu" -q write -s 0x08020000 "$dir/1m.bin"
    timed h7dfu--no-verify "$h7dfu" -q write --no-verify -s 0x08020000 "$dir/1m.bin"
    timed dfu-util dfu-util -a 0 -s 0x08020000 -D "$dir/1m.bin"
done
python3 - "$dir/times" <<'PY'
import sys
cols = {}
for l in open(sys.argv[1]):
    k, t0, t1 = l.split()
    cols.setdefault(k, []).append(float(t1) - float(t0))
assert len(cols) == 3, cols
for k, v in cols.items():
    print(f"1 MiB {k:18s} " + "  ".join(f"{x:6.3f} s" for x in v) +
          f"   (mean {sum(v) / len(v):.3f} s)")
PY
echo OK
