# Shared helpers of the ROM-board tests (sourced). Each script runs as
#   SCRIPT SIM H7DFU
# with SIM = h7dfu-sim and H7DFU = the h7dfu command, both from the build.
# The common helpers (fail, expect_rc, expect_words, rand, $dir, $fl) are the
# end-to-end tests'; h7 is redefined below for the ROM board.
. "$(dirname "$0")/../e2e/lib.sh"
# $fl also has its option bytes beside it ($fl.ob), kept across runs.

# rom [SIM-OPTIONS] -- CMD...: CMD with a ROM board attached (no h7dfu
# bootloader; fast poll times; flash and option bytes kept in $fl).
rom() {
    _opts=""
    while [ "$1" != "--" ]; do
        _opts="$_opts $1"
        shift
    done
    shift
    # shellcheck disable=SC2086
    "$sim" --rom --fast --events --flash "$fl" $_opts run -- "$@"
}

# h7 [SIM-OPTIONS] -- ARGS...: h7dfu ARGS under a ROM board; stdout in
# $dir/out, stderr (with the board's events) in $dir/err, status in $rc.
h7() {
    _opts=""
    while [ "$1" != "--" ]; do
        _opts="$_opts $1"
        shift
    done
    shift
    # shellcheck disable=SC2086
    rom $_opts -- "$h7dfu" "$@" >"$dir/out" 2>"$dir/err"
    rc=$?
}

# no_words WHAT FILE WORD...: no WORD appears in FILE.
no_words() {
    _nw_what="$1" _nw_file="$2"
    shift 2
    for _nw_word in "$@"; do
        if grep -qF -- "$_nw_word" "$_nw_file"; then
            cat "$_nw_file"
            fail "$_nw_what: must not contain '$_nw_word'"
        fi
    done
}

# app_image FILE BYTES: a raw application for 0x08000000 whose vector table
# the chip can start (SP 0x20020000 in DTCM, reset vector 0x08000199 Thumb),
# the rest random.
app_image() {
    printf '\000\000\002\040\231\001\000\010' >"$1"
    head -c $(($2 - 8)) /dev/urandom >>"$1"
}

# flash_bytes OFFSET LEN OUT: bytes of the board's flash at 0x08000000 +
# OFFSET, from its flash file.
flash_bytes() {
    flash_dump $((0x08000000 + $1)) "$2" "$3"
}
