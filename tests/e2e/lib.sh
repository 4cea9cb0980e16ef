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

# sector_of_flash N OUT: bytes of flash sector N (128 KiB) from the sim's flash
# file (32-byte header, then the array; sim/flash/sim_flash.h).
sector_of_flash() {
    tail -c +$((32 + $1 * 131072 + 1)) "$fl" | head -c 131072 >"$2"
}

# erased FILE: FILE holds only 0xFF bytes.
erased() {
    [ -z "$(tr -d '\377' <"$1" | head -c 1)" ]
}
