#!/bin/sh
# usb_bad's raw bad requests, then (same board, same run) a normal h7dfu
# write + read: the device recovered completely. The serial has 31
# characters: its string descriptor is 64 bytes, one whole packet, so reading
# it with a larger wLength needs the zero-length packet (the emulated chip,
# H7_FW_ELF, makes its serial from the chip UID: 24 digits, not checked there).
set -u
sim="$1" h7dfu="$2" bad="$3"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
head -c 5000 /dev/urandom > "$dir/img.bin"
"$sim" --fast --serial H7SIM-SERIAL-OF-31-CHARS-ZLP-01 run -- sh -c '
    "$1" 0483:df11 ${H7_FW_ELF:+--timed} > "$3/bad.out" || { cat "$3/bad.out"; echo "FAIL: usb_bad"; exit 1; }
    cat "$3/bad.out"
    # It ran its checks (not an early exit): "usb_bad: N checks, 0 failed", N >= 100.
    grep -qE "^usb_bad: [1-9][0-9]{2,} checks, 0 failed$" "$3/bad.out" || { echo "FAIL: usb_bad summary"; exit 1; }
    [ -n "${H7_FW_ELF:-}" ] || grep -q "^usb_bad: string descriptor ZLP checked (serial descriptor 64 bytes)$" "$3/bad.out" ||
        { echo "FAIL: the string descriptor ZLP was not checked"; exit 1; }
    "$2" -q write -s 0x08060000 "$3/img.bin" || { echo "FAIL: write after bad requests"; exit 1; }
    "$2" -q read --force 0x08060000:5000 "$3/back.bin" || { echo "FAIL: read after bad requests"; exit 1; }
' sh "$bad" "$h7dfu" "$dir" || exit 1
cmp "$dir/img.bin" "$dir/back.bin" || { echo "FAIL: read back differs"; exit 1; }
echo OK
