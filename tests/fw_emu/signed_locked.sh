#!/bin/sh
# The production bootloader binary (bootloader-signed-locked.elf,
# docs/production.md) on the emulated chip: an image signed with its key is
# written, verified through CRCs of whole sectors and started; the flash is
# not read back; there is no way to ST's ROM over USB (no DfuSe command 0xC5:
# `update-bootloader` says so and writes nothing), so neither the boot
# address option bytes nor a ROM read get around the signature and the lock.
. "$(dirname "$0")/lib.sh"
bl="$fwdir/bootloader-signed-locked.elf"
key="$(dirname "$0")/../keys/test-signing-key.pem"
[ -f "$bl" ] || { echo "SKIP: $bl not built (no mbedtls source: scripts/fetch-mbedtls.sh)"; exit 77; }

"$h7dfu" -q image stamp -V 2.0.0 -k "$key" -c 1 "$app" "$dir/signed.bin" || fail "stamp -k"
chip --events -- "$h7dfu" -w 120 write -s 0x08020000:leave "$dir/signed.bin" >"$dir/out" 2>&1 ||
    { cat "$dir/out"; fail "write :leave of the signed image"; }
expect_words "signed image" "$dir/out" "verified" "the application started"
chip -- sh -c '"$1" -q detach && "$1" -w 120 read --force 0x08020000:64 "$2"' sh "$h7dfu" \
    "$dir/back.bin" >"$dir/out" 2>&1 && fail "the production bootloader let the host read the slot"
expect_words "read" "$dir/out" "errTARGET" "locked bootloader"
chip -- "$h7dfu" -w 120 update-bootloader "$fwdir/bootloader-signed-locked.bin" >"$dir/out" 2>&1 &&
    fail "update-bootloader reached ST's ROM through the production bootloader"
expect_words "no ROM hand-over" "$dir/out" "no command 0xC5" "nothing was written"
echo "signed-locked OK"
