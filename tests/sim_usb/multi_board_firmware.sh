#!/bin/sh
# Emulated chips beside a native board (h7dfu-sim --board ...,firmware=ELF):
# two boards run the bootloader binary on emulated Cortex-M7s (one engine
# each), one the native model; three h7dfu processes write all three at once.
#   multi_board_firmware.sh SIM H7DFU BOOTLOADER_ELF
set -u
sim="$1" h7dfu="$2" elf="$3"
[ -f "$elf" ] || { echo "SKIP: no $elf (make firmware)"; exit 77; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() {
    echo "FAIL: $*"
    cat "$dir/out" "$dir/stats" 2>/dev/null
    exit 1
}
python3 - "$dir/body.bin" <<'PY'
import struct, sys
body = bytearray(16384)
struct.pack_into("<II", body, 0, 0x20020000, 0x08020000 + 0x201)
open(sys.argv[1], "wb").write(body)
PY
"$h7dfu" -q image stamp -V 2.0.0 -s 0x08020000 "$dir/body.bin" "$dir/app.hex" || fail "stamp"
e1=0000000000000000000E0001 e3=0000000000000000000E0003
"$sim" --fast --stats "$dir/stats" --board serial=$e1,firmware="$elf" --board serial=MFN002 \
    --board serial=$e3,firmware="$elf" run -- sh -c "
        for s in $e1 MFN002 $e3; do
            \"$h7dfu\" -q -S \$s write \"$dir/app.hex\"; echo \"\$s rc=\$?\" >\"$dir/rc.\$s\" &
        done; wait; cat \"$dir\"/rc.*; \"$h7dfu\" list" >"$dir/out" 2>&1 || fail "exit status $?"
cat "$dir/out"
for s in $e1 MFN002 $e3; do
    grep -q "^$s rc=0$" "$dir/out" || fail "$s not written"
done
grep -q "path=1-1 .*serial=\"$e1\"" "$dir/out" || fail "board 1 not at 1-1"
grep -q "path=1-3 .*serial=\"$e3\"" "$dir/out" || fail "board 3 not at 1-3"
grep -q '"path":"1-1","personality":"firmware"' "$dir/stats" || fail "stats board 1"
grep -q '"path":"1-2","personality":"h7dfu"' "$dir/stats" || fail "stats board 2"
grep -q '"path":"1-3","personality":"firmware"' "$dir/stats" || fail "stats board 3"
echo PASS
