#!/bin/sh
# make install into a temporary DESTDIR, then the installed files checked and
# used, then make uninstall. Run from the source tree (ctest target_install,
# through scripts/check-targets.sh install):
#
#   INSTALL_BUILD=DIR tests/install/check.sh
#
# Checks: the installed h7dfu and h7dfu-sim (found by their installed paths,
# nothing from a build tree) link no sanitizer runtime, and h7dfu lists,
# writes and reads back the installed virtual board; every public header
# compiles on its own from the install tree; the example of docs/library.md
# builds with `pkg-config --cflags --libs h7dfu` (shared library) and against
# libh7dfu.a, and both list the board; the man page, udev rules (IDs, uaccess)
# and bash completion (commands, options, the board's serial) are there;
# make uninstall leaves no file behind.
#
# Cost: INSTALL_BUILD is a release tree kept between runs (make test's is
# <build>/targets/build-install): the first run builds the host programs and
# the library without tests, about 30 s on 2 cores; later runs only
# relink what changed. The checks take about 3 s.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
: "${INSTALL_BUILD:?set INSTALL_BUILD to the install build tree}"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/h7-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/dest
prefix=/usr/local
p=$dest$prefix

fail() {
    echo "FAIL: $*"
    exit 1
}

cd "$root" || exit 2
make --no-print-directory install INSTALL_BUILD="$INSTALL_BUILD" DESTDIR="$dest" \
    PREFIX="$prefix" >"$tmp/install.log" 2>&1 || {
    cat "$tmp/install.log"
    fail "make install"
}

# Where things are: the library directory is the one that holds h7dfu.pc.
pc=$(find "$dest" -name h7dfu.pc)
[ -n "$pc" ] || fail "h7dfu.pc not installed"
libdir=$(dirname "$(dirname "$pc")")
for f in "$p/bin/h7dfu" "$p/bin/h7dfu-sim"; do
    [ -x "$f" ] || fail "$f not installed"
done
for f in "$libdir/libh7dfu.a" "$libdir/libh7dfu.so" "$p/share/man/man1/h7dfu.1" \
    "$dest/etc/udev/rules.d/70-h7dfu.rules" "$p/share/doc/h7dfu/70-h7dfu-group.rules" \
    "$p/share/bash-completion/completions/h7dfu" "$p/include/h7dfu/h7dfu.h"; do
    [ -f "$f" ] || fail "$f not installed"
done
cmp -s "$p/share/man/man1/h7dfu.1" docs/h7dfu.1 || fail "man page differs from docs/h7dfu.1"
soname=$(objdump -p "$libdir/libh7dfu.so" | awk '$1 == "SONAME" { print $2 }')
[ "$soname" = libh7dfu.so.0 ] || fail "libh7dfu.so SONAME '$soname', want libh7dfu.so.0"
[ -f "$libdir/$soname" ] || fail "$libdir/$soname missing"
if nm -D --defined-only "$libdir/libh7dfu.so" | awk '$2 ~ /^[TDBR]$/ { print $3 }' | grep -v '^h7_'; then
    fail "libh7dfu.so exports the symbols above (only h7_* should be)"
fi

# udev: both IDs, the seat's uaccess tag, the group variant.
rules="$dest/etc/udev/rules.d/70-h7dfu.rules"
for id in df11 5750; do
    grep -q "^SUBSYSTEM==\"usb\", ATTR{idVendor}==\"0483\", ATTR{idProduct}==\"$id\", TAG+=\"uaccess\"" \
        "$rules" || fail "udev rules lack 0483:$id with uaccess"
    grep -q "^SUBSYSTEM==\"usb\", ATTR{idVendor}==\"0483\", ATTR{idProduct}==\"$id\", GROUP=\"plugdev\", MODE=\"0660\"" \
        "$p/share/doc/h7dfu/70-h7dfu-group.rules" || fail "group rules lack 0483:$id"
done

# No sanitizer runtime in the installed programs and library.
for f in "$p/bin/h7dfu" "$p/bin/h7dfu-sim" "$libdir/libh7dfu.so"; do
    ldd "$f" >"$tmp/ldd" || fail "ldd $f"
    if grep -E 'lib(asan|ubsan|tsan|lsan)' "$tmp/ldd"; then
        fail "$f links a sanitizer runtime"
    fi
done

# The installed h7dfu on the installed board.
sim=$p/bin/h7dfu-sim
h7=$p/bin/h7dfu
board() {
    "$sim" --fast --flash "$tmp/flash.h7" run -- "$@"
}
board "$h7" list >"$tmp/out" 2>&1 || fail "installed h7dfu list: $(cat "$tmp/out")"
grep -q '^0483:df11 DFU .*serial="H7SIM0001"' "$tmp/out" || fail "list: $(cat "$tmp/out")"
head -c 5000 /dev/urandom >"$tmp/data.bin"
board "$h7" -q write -s 0x08020000 --no-skip "$tmp/data.bin" >"$tmp/out" 2>&1 ||
    fail "installed h7dfu write: $(cat "$tmp/out")"
board "$h7" -q read 0x08020000:5000 "$tmp/back.bin" >"$tmp/out" 2>&1 ||
    fail "installed h7dfu read: $(cat "$tmp/out")"
cmp -s "$tmp/data.bin" "$tmp/back.bin" || fail "read back differs from what was written"

# Each public header on its own, with only the install tree's include path.
cc=${CC:-cc}
for h in "$p"/include/h7dfu/*.h; do
    printf '#include <h7dfu/%s>\n' "$(basename "$h")" >"$tmp/hdr.c"
    "$cc" -std=c11 -Wall -Wextra -Werror -pedantic -fsyntax-only -I"$p/include" "$tmp/hdr.c" ||
        fail "header $(basename "$h") does not compile on its own"
done

# The example of docs/library.md, shared and static.
sed -n '/^```c$/,/^```$/p' docs/library.md | sed '1d;$d' >"$tmp/h7list.c"
[ -s "$tmp/h7list.c" ] || fail "no C example in docs/library.md"
export PKG_CONFIG_PATH="$libdir/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$dest"
# shellcheck disable=SC2046 # flags are words
"$cc" -std=c11 -Wall -Wextra -Werror -o "$tmp/h7list" "$tmp/h7list.c" \
    $(pkg-config --cflags --libs h7dfu) || fail "example: shared build"
# shellcheck disable=SC2046
"$cc" -std=c11 -Wall -Wextra -Werror -o "$tmp/h7list-static" "$tmp/h7list.c" \
    $(pkg-config --cflags h7dfu) $(pkg-config --libs-only-L h7dfu) -Wl,-Bstatic -lh7dfu \
    -Wl,-Bdynamic $(PKG_CONFIG_SYSROOT_DIR='' pkg-config --libs libusb-1.0) ||
    fail "example: static build"
unset PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
LD_LIBRARY_PATH=$libdir ldd "$tmp/h7list" | grep -q "libh7dfu.so.0 => $libdir/" ||
    fail "example: not linked with the installed libh7dfu.so"
! ldd "$tmp/h7list-static" | grep -q libh7dfu || fail "example: static build uses libh7dfu.so"
for x in h7list h7list-static; do
    LD_LIBRARY_PATH=$libdir board "$tmp/$x" >"$tmp/out" 2>&1 || fail "$x: $(cat "$tmp/out")"
    grep -q '^0483:df11 DFU serial H7SIM0001 at ' "$tmp/out" &&
        grep -q '^  state dfuIDLE, memory @Internal Flash' "$tmp/out" || fail "$x: $(cat "$tmp/out")"
done

# Bash completion: a command, an option, the attached board's serial.
cat >"$tmp/comp.bash" <<'EOS'
. "$1"
comp() {
    COMP_WORDS=("$@") COMP_CWORD=$(($# - 1))
    COMPREPLY=()
    _h7dfu h7dfu "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
    echo "${COMPREPLY[*]}"
}
[ "$(comp "$2" upd)" = update ] || { echo "command: '$(comp "$2" upd)'"; exit 1; }
[ "$(comp "$2" write --read)" = --readback ] || { echo "option: '$(comp "$2" write --read)'"; exit 1; }
[ "$(comp "$2" list -S '')" = H7SIM0001 ] || { echo "serial: '$(comp "$2" list -S '')'"; exit 1; }
EOS
if command -v bash >/dev/null; then
    board bash "$tmp/comp.bash" "$p/share/bash-completion/completions/h7dfu" "$h7" \
        >"$tmp/out" 2>&1 || fail "bash completion: $(cat "$tmp/out")"
fi

make --no-print-directory uninstall INSTALL_BUILD="$INSTALL_BUILD" DESTDIR="$dest" \
    >"$tmp/uninstall.log" 2>&1 || {
    cat "$tmp/uninstall.log"
    fail "make uninstall"
}
left=$(find "$dest" ! -type d)
[ -z "$left" ] || fail "make uninstall left: $left"
[ ! -d "$p/include/h7dfu" ] || fail "make uninstall left include/h7dfu/"
echo "install: ok ($(wc -l <"$INSTALL_BUILD/install_manifest.txt") files installed and removed)"
