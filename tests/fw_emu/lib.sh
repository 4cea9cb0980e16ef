# Shared helpers of the emulated-firmware tests (sourced). Each script is run as
#   SCRIPT SIM H7DFU FWDIR
# SIM = h7dfu-sim, H7DFU = the h7dfu command, FWDIR = the cross-built firmware
# (bootloader.elf, demo-app.elf): the exact binaries, run on the emulated chip.
# The end-to-end helpers (sim, h7dfu, dir, fl, fail, expect_words, ...):
. "$(dirname "$0")/../e2e/lib.sh"
fwdir="$3"
bl="$fwdir/bootloader.elf"
app="$fwdir/demo-app.elf"
# The chip's unique ID, which the firmware shows as its USB serial number.
serial=0038002A3138510B33363432

[ -f "$bl" ] && [ -f "$app" ] || fail "firmware not built in $fwdir"

# chip [SIM OPTIONS] -- CMD...: CMD with the emulated board attached (flash
# kept in $fl, host poll waits shortened with --fast).
chip() {
    _opts=""
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do
        _opts="$_opts $1"
        shift
    done
    shift
    # shellcheck disable=SC2086
    "$sim" --firmware "$bl" --serial "$serial" --fast --flash "$fl" $_opts run -- "$@"
}

# stamp VERSION OUT: the demo application stamped for the bootloader.
stamp() {
    "$h7dfu" image stamp -V "$1" "$app" "$2" >/dev/null || fail "stamp $1"
}

# stamp_changed VERSION OUT: the demo application with 32 more bytes after
# its end (in the slot's first sector), stamped: an update from `stamp` to
# this rewrites that sector, not only the record (the same body would cost
# just the record's two words).
stamp_changed() {
    cp "${app%.elf}.bin" "$dir/changed.bin" || fail "no ${app%.elf}.bin"
    printf '%32s' "" | tr ' ' 'Z' >>"$dir/changed.bin"
    "$h7dfu" image stamp -V "$1" -s 0x08020000 "$dir/changed.bin" "$2" >/dev/null ||
        fail "stamp $1 (changed body)"
}

# clean_update_ops V1 V2: install V1 (flash kept in $dir/v1.h7 for the cut
# runs), update to V2 and set $ops to the flash operations the update took.
clean_update_ops() {
    chip --install "$1" -- true || fail "install $1"
    cp "$fl" "$dir/v1.h7"
    chip --stats "$dir/st" -- "$h7dfu" update "$2" >"$dir/o" 2>&1 || { cat "$dir/o"; fail "clean update"; }
    ops=$(($(sed -n 's/^sector_erases=//p' "$dir/st") + $(sed -n 's/^words_programmed=//p' "$dir/st")))
    [ "$ops" -gt 2 ] || fail "clean update counted $ops flash operations"
}
