#!/bin/sh
# The emulated chip's CPU (Unicorn's Cortex-M7) has no double-precision VFP:
# every firmware image must be free of f64 arithmetic and D-register use, so
# that what runs on the emulator is what runs on the chip.
#   no_f64.sh OBJDUMP ELF...
set -u
objdump="$1"
shift
bad=0
for elf in "$@"; do
    [ -f "$elf" ] || { echo "FAIL: $elf missing"; exit 1; }
    hits=$("$objdump" -d --no-show-raw-insn "$elf" |
        awk -F'\t' 'NF >= 3 && $2 ~ /^v/ && ($2 ~ /f64/ || $3 ~ /(^|[ ,{])d[0-9]+/)')
    if [ -n "$hits" ]; then
        echo "FAIL: $elf uses double precision:"
        echo "$hits" | head -20
        bad=1
    fi
done
[ "$bad" -eq 0 ] && echo "no f64 instruction in $*"
exit "$bad"
