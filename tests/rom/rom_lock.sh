#!/bin/sh
# The locked production configuration on the ROM board (docs/production.md):
# WRPSN sector 0 refuses writes there, other sectors take them; RDP level 1
# refuses flash reads and keeps the flash; the regression to level 0 says it
# erases, then mass-erases the flash (WRPSN stays as written).
. "$(dirname "$0")/lib.sh"

app_image "$dir/a.bin" 4096
rand "$dir/b.bin" 4096
h7 --boot0 -- write -s 0x08000000 "$dir/a.bin"
expect_rc 0 "write sector 0"
h7 --boot0 -- write -s 0x08040000 "$dir/b.bin"
expect_rc 0 "write sector 2"

h7 --boot0 -- option-bytes --set wrpsn=0x01 --write --yes
expect_rc 0 "wrpsn sector 0"
expect_words "wrpsn" "$dir/err" "sector 0 write protected"
h7 --boot0 -- write -s 0x08000000 "$dir/b.bin"
expect_rc 6 "write into sector 0"
expect_words "sector 0" "$dir/err" "errTARGET"
h7 --boot0 -- write -s 0x08060000 "$dir/b.bin"
expect_rc 0 "write sector 3 with sector 0 protected"
flash_has "$fl" 0x08000000 "$dir/a.bin"

h7 --boot0 -- option-bytes --set rdp=1 --write --yes
expect_rc 2 "rdp=1 without --yes-lock"
h7 --boot0 -- option-bytes --set rdp=1 --write --yes --yes-lock
expect_rc 0 "rdp=1"
expect_words "rdp=1" "$dir/err" "RDP level 1" "mass-erases"
h7 --boot0 -- read --force 0x08040000:4096 "$dir/back.bin"
[ "$rc" -ne 0 ] || fail "flash read at RDP level 1"
expect_words "read at level 1" "$dir/err" "errVENDOR"
h7 --boot0 -- option-bytes
expect_rc 0 "option bytes readable at level 1"
expect_words "level 1" "$dir/out" "level 1:" "bank 1 sectors 0"
flash_has "$fl" 0x08040000 "$dir/b.bin"

h7 --boot0 -- option-bytes --set rdp=0 --write --yes
expect_rc 2 "rdp=0 without --yes-erase"
flash_has "$fl" 0x08040000 "$dir/b.bin"
h7 --boot0 -- option-bytes --set rdp=0 --write --yes --yes-erase
expect_rc 0 "regression"
expect_words "regression" "$dir/err" "MASS-ERASES" "RDP regression level 1 -> 0"
said=$(grep -n "MASS-ERASES" "$dir/err" | cut -d: -f1)
done=$(grep -n "user flash mass erased" "$dir/err" | cut -d: -f1)
[ "$said" -lt "$done" ] || fail "the erase was not announced before it happened"
for s in 0 2 3; do
    sector_of_flash $s "$dir/s$s.bin"
    erased "$dir/s$s.bin" 131072 || fail "sector $s not erased by the regression"
done
h7 --boot0 -- option-bytes
expect_words "after regression" "$dir/out" "0xaa: level 0" "bank 1 sectors 0"
echo OK
