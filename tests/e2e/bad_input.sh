#!/bin/sh
# Bad input through the CLI, with the board attached: malformed files of each
# format (exit 3, the message names the line or byte offset), images the
# device's layout cannot take (exit 5), a .dfu for another device (refused
# unless :force), a raw binary without an address. After every refusal the
# board's flash file is byte-identical to before: nothing was erased.
# And without any board: exit 4, fast.
. "$(dirname "$0")/lib.sh"
objcopy="${OBJCOPY:-arm-none-eabi-objcopy}"
command -v "$objcopy" >/dev/null || { echo "SKIP: $objcopy not found"; exit 77; }

# Data in sectors 1 and 15, so an erase anywhere near would show.
rand "$dir/s1.bin" 131072
rand "$dir/s15.bin" 131072
h7 -q write -s 0x08020000 "$dir/s1.bin"
expect_rc 0 "fill sector 1"
readback 0x08020000 "$dir/s1.bin"
h7 -q write -s 0x081e0000 "$dir/s15.bin"
expect_rc 0 "fill sector 15"
readback 0x081e0000 "$dir/s15.bin"
cp "$fl" "$dir/flash.before"

# refused WANT WHAT WORD... -- H7DFU-ARGS: exit WANT, every WORD in the
# message, flash unchanged.
refused() {
    want="$1" what="$2"
    shift 2
    words=""
    while [ "$1" != "--" ]; do
        words="$words$1
"
        shift
    done
    shift
    h7 "$@"
    expect_rc "$want" "$what"
    printf '%s' "$words" | while IFS= read -r w; do
        grep -qF -- "$w" "$dir/err" || { cat "$dir/err"; echo "FAIL: $what: message lacks '$w'"; exit 1; }
    done || exit 1
    cmp -s "$fl" "$dir/flash.before" || fail "$what: the flash changed"
}

# Fixtures: good files first, then one corruption each.
rand "$dir/g.bin" 3000
"$objcopy" -I binary -O ihex --change-addresses 0x08020000 "$dir/g.bin" "$dir/g.hex" || fail objcopy
"$objcopy" -I binary -O srec --change-addresses 0x08020000 "$dir/g.bin" "$dir/g.srec" || fail objcopy
"$objcopy" -I binary -O elf32-littlearm -B arm "$dir/g.bin" "$dir/g.o" || fail objcopy
printf 'SECTIONS { . = 0x08020000; .data : { *(.data) } }\n' >"$dir/g.ld"
"${ARM_LD:-arm-none-eabi-ld}" -T "$dir/g.ld" -o "$dir/g.elf" "$dir/g.o" 2>/dev/null || fail ld
h7 -q read --force 0x08020000:3000 "$dir/g.dfu" # the start of s1.bin
expect_rc 0 "read .dfu"
cp "$fl" "$dir/flash.before" # a read saves the same bytes; keep the reference exact
python3 - "$dir" <<'PY' || fail "making corrupt fixtures"
import struct, sys
d = sys.argv[1]
def rd(n): return open(f"{d}/{n}", "rb").read()
def wr(n, b): open(f"{d}/{n}", "wb").write(b)
def fix_checksum(line, delta):  # last two hex digits of a record, + delta
    body = line.rstrip(b"\r")
    cs = (int(body[-2:], 16) + delta) & 0xFF
    return body[:-2] + b"%02X" % cs + line[len(body):]
hexl = rd("g.hex").split(b"\n")
bad = list(hexl); bad[4] = bad[4][:3] + b"G" + bad[4][4:]; wr("char.hex", b"\n".join(bad))
bad = list(hexl); bad[3] = fix_checksum(bad[3], 1); wr("sum.hex", b"\n".join(bad))
wr("cut.hex", b"\n".join(hexl[:3]) + b"\n" + hexl[3][:20] + b"\n")
srl = rd("g.srec").split(b"\n")
bad = list(srl); bad[2] = fix_checksum(bad[2], 1); wr("sum.srec", b"\n".join(bad))
bad = list(srl); bad[5] = b"SX" + bad[5][2:]; wr("type.srec", b"\n".join(bad))
dfu = bytearray(rd("g.dfu"))
b = bytearray(dfu); b[400] ^= 0xFF; wr("crc.dfu", b)
wr("trunc.dfu", dfu[:200])
elf = rd("g.elf")
wr("trunc.elf", elf[:1000])
b = bytearray(elf); struct.pack_into("<I", b, 28, 0xFFF0); wr("phoff.elf", b)  # e_phoff
PY
: >"$dir/empty.bin"

refused 3 "ihex bad character" 'char.hex:5:' "non-hex character 'G'" -- write "$dir/char.hex"
refused 3 "ihex bad checksum" 'sum.hex:4:' 'bad checksum' -- write "$dir/sum.hex"
refused 3 "ihex cut record" 'cut.hex:4:' -- write "$dir/cut.hex"
refused 3 "srec bad checksum" 'sum.srec:3:' 'bad checksum' -- write "$dir/sum.srec"
refused 3 "srec bad type" 'type.srec:6:' -- write "$dir/type.srec"
refused 3 "dfu bad CRC" 'crc.dfu: at byte offset' 'CRC' -- write "$dir/crc.dfu"
refused 3 "dfu truncated" 'trunc.dfu: at byte offset' -- write "$dir/trunc.dfu"
refused 3 "elf truncated" 'trunc.elf: at byte offset' 'past the end of the file' -- write "$dir/trunc.elf"
refused 3 "elf bad e_phoff" 'phoff.elf: at byte offset 65520' -- write "$dir/phoff.elf"
refused 3 "empty binary" 'empty.bin' 'empty' -- write -s 0x08020000 "$dir/empty.bin"
refused 3 "binary without -s" 'g.bin' 'no address' '-s' -- write "$dir/g.bin"
refused 3 "missing file" 'nonexistent.hex' -- write "$dir/nonexistent.hex"
refused 2 "forced format that does not parse" 'unknown format' -- write -f nosuch "$dir/g.hex"
refused 3 "ihex read as srec" 'g.hex' -- write -f srec "$dir/g.hex"

# The layout refuses: the bootloader's sector, across into it, past the end.
refused 5 "image at 0x08000000" '0x08000000' 'sector 0' 'not writable' 'h7dfu info' -- \
    write -s 0x08000000 "$dir/g.bin"
refused 5 "image across sectors 0/1" 'sector 0' 'not writable' -- write -s 0x0801ff00 "$dir/g.bin"
refused 5 "image past the end" '0x08200000' 'outside' -- write -s 0x081fff00 "$dir/g.bin"
refused 5 "erase of the bootloader sector" '0x08000000' 'erasable' -- erase 0x08000000:16

# A .dfu for another VID:PID: refused, unless :force.
python3 - "$dir/g.dfu" "$dir/other.dfu" <<'PY' || fail "making other.dfu"
import struct, sys, zlib
b = bytearray(open(sys.argv[1], "rb").read())
struct.pack_into("<HH", b, len(b) - 14, 0x5678, 0x1234)  # idProduct, idVendor
struct.pack_into("<I", b, len(b) - 4, zlib.crc32(bytes(b[:-4])) ^ 0xFFFFFFFF)
open(sys.argv[2], "wb").write(b)
PY
refused 5 "dfu for 1234:5678" 'is for device 1234:5678' '0483:df11' 'nothing was written' ':force' -- \
    write "$dir/other.dfu"
h7 write -s :force "$dir/other.dfu"
expect_rc 0 "dfu for 1234:5678 with :force"
h7 -q read --force 0x08020000:3000 "$dir/back.bin"
expect_rc 0 "read after the :force write"
head -c 3000 "$dir/s1.bin" | cmp - "$dir/back.bin" || fail ":force write: read back differs"
head -c 3000 "$dir/s1.bin" >"$dir/s1head.bin"
readback 0x08020000 "$dir/s1head.bin"

# Usage errors: exit 2.
for args in "write" "write a b" "write -s 0xZZ $dir/g.bin" "read 0x08020000 x" "erase" \
    "leave 1 2" "nosuchcommand"; do
    # shellcheck disable=SC2086
    h7 $args
    expect_rc 2 "h7dfu $args"
done

# No board at all: exit 4 at once, and with -w 1 after about a second.
for wait_s in 0 1; do
    t0=$(date +%s.%N)
    "$h7dfu" -w $wait_s info >"$dir/out" 2>"$dir/err"
    rc=$?
    t1=$(date +%s.%N)
    expect_rc 4 "no device, -w $wait_s"
    expect_words "no device, -w $wait_s" "$dir/err" "no DFU-mode device found"
    python3 -c "import sys; t = $t1 - $t0; sys.exit(0 if $wait_s <= t + 0.05 and t < $wait_s + 2 else 1)" ||
        fail "no device, -w $wait_s: took from $t0 to $t1"
done
"$h7dfu" write -s 0x08020000 "$dir/g.bin" >/dev/null 2>&1
[ $? -eq 4 ] || fail "write without a board: want exit 4"
echo OK
