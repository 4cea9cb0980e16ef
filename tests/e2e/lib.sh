# Shared helpers of the end-to-end tests (sourced). Each test script is run as
#   SCRIPT SIM H7DFU
# with SIM = h7dfu-sim and H7DFU = the h7dfu command, both from the build.
set -u
sim="$1"
h7dfu="$2"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fl="$dir/flash.h7" # the virtual board's flash, kept across sim runs

fail() {
    echo "FAIL: $*"
    exit 1
}

# board CMD...: run CMD with the virtual board attached (fast poll times,
# flash kept in $fl).
board() {
    "$sim" --fast --flash "$fl" run -- "$@"
}

# h7 ARGS...: h7dfu under the board; stdout in $dir/out, stderr in $dir/err,
# exit status in $rc.
h7() {
    board "$h7dfu" "$@" >"$dir/out" 2>"$dir/err"
    rc=$?
}

# expect_rc WANT WHAT: $rc must be WANT.
expect_rc() {
    [ "$rc" -eq "$1" ] || {
        cat "$dir/out" "$dir/err"
        fail "$2: exit status $rc, want $1"
    }
}

# expect_words WHAT FILE WORD...: every WORD (fixed string) appears in FILE.
expect_words() {
    _ew_what="$1" _ew_file="$2"
    shift 2
    for _ew_word in "$@"; do
        grep -qF -- "$_ew_word" "$_ew_file" || {
            cat "$_ew_file"
            fail "$_ew_what: message lacks '$_ew_word'"
        }
    done
}

# rand FILE BYTES: random contents.
rand() {
    head -c "$2" /dev/urandom >"$1"
}

# flash_dump ADDR LEN OUT: LEN bytes of the board's flash at ADDR, from the
# flash file the sim saved ($fl), by `h7dfu-sim flash dump`.
flash_dump() {
    "$sim" flash dump "$fl" "$1" "$2" "$3" || fail "h7dfu-sim flash dump $fl $1 $2"
}

# sector_of_flash N OUT: bytes of flash sector N (128 KiB) from the flash file.
sector_of_flash() {
    flash_dump $((0x08000000 + $1 * 131072)) 131072 "$2"
}

# erased FILE SIZE: FILE exists, holds SIZE bytes, all 0xFF.
erased() {
    [ -f "$1" ] && [ "$(wc -c <"$1")" -eq "$2" ] && [ -z "$(tr -d '\377' <"$1" | head -c 1)" ]
}

# readback ADDR FILE: an independent read-back of what a write left at ADDR:
# unmodified dfu-util uploads ADDR:size(FILE) in a sim run of its own, compared
# byte for byte with FILE. Without dfu-util, the bytes are taken from the
# flash file the sim saved (flash_has).
readback() {
    _rb_n=$(wc -c <"$2")
    rm -f "$dir/readback.bin"
    if command -v dfu-util >/dev/null; then
        board dfu-util -a 0 -s "$1:$_rb_n" -U "$dir/readback.bin" >"$dir/readback.log" 2>&1 || {
            cat "$dir/readback.log"
            fail "dfu-util -U $1:$_rb_n"
        }
    else
        flash_has "$fl" "$1" "$2"
        return
    fi
    cmp "$2" "$dir/readback.bin" || fail "independent read-back of $1:$_rb_n differs from $2"
}

# flash_has FLASHFILE ADDR FILE: the sim's flash file holds FILE at ADDR.
flash_has() {
    "$sim" flash dump "$1" "$2" "$(wc -c <"$3")" "$dir/flash_has.bin" ||
        fail "h7dfu-sim flash dump $1 $2"
    cmp "$3" "$dir/flash_has.bin" || fail "the flash file $1 does not hold $3 at $2"
}
