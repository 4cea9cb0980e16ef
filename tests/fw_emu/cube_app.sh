#!/bin/sh
# examples/cube-app, the Cube-style application, as docs/app-integration.md
# builds it: the firmware tree built its ELF through the CubeMX Makefile and
# h7dfu's GNUmakefile; here the documented post-build step (`make` in the
# project: `h7dfu image stamp -V $(git describe --tags --dirty)`, then
# `h7dfu image info`) stamps it, the bootloader ELF runs on the emulated
# chip with it installed, it enumerates as the application (HID + DFU
# run-time, the bootloader's serial), and `h7dfu update` takes it to a second
# stamped version through its DETACH.
#   cube_app.sh SIM H7DFU FWDIR EXAMPLE_SRC
. "$(dirname "$0")/lib.sh"
src="$4"
out="$fwdir/cube-app"
elf="$out/cube-app.elf"
[ -f "$elf" ] || fail "examples/cube-app not built in $out"

# A repository with the tag v1.2.3 and 4 commits after it, for the Makefile's
# `git describe --tags --dirty` (GIT_DIR points git there).
repo="$dir/repo"
git init -q "$repo" && git -C "$repo" config user.email t@t && git -C "$repo" config user.name t ||
    fail "git init"
git -C "$repo" commit -q --allow-empty -m base && git -C "$repo" tag v1.2.3 || fail "git tag"
for i in 1 2 3 4; do git -C "$repo" commit -q --allow-empty -m "c$i" || fail "git commit"; done
desc=$(GIT_DIR="$repo/.git" git describe --tags --dirty) || fail "git describe"
case "$desc" in v1.2.3-4-g*) ;; *) fail "git describe said '$desc'" ;; esac

# post_build OUT [MAKE VARIABLES]: the documented Make post-build step (the
# ELF is up to date: only the stamp and the check run), result copied to OUT.
post_build() {
    _pb_out="$1"
    shift
    make --no-print-directory -C "$src" BUILD_DIR="$out" H7DFU="$h7dfu" "$@" \
        "$out/cube-app.stamped.hex" >"$dir/make.log" 2>&1 || {
        cat "$dir/make.log"
        fail "post-build step ($*)"
    }
    grep -q 'arm-none-eabi-gcc' "$dir/make.log" && {
        cat "$dir/make.log"
        fail "the post-build step rebuilt the application: the firmware tree's build is not the documented one"
    }
    cp "$out/cube-app.stamped.hex" "$_pb_out" || fail "no stamped output"
}

GIT_DIR="$repo/.git" post_build "$dir/v1.hex"
expect_words "post-build v1" "$dir/make.log" "image stamp -V \"$desc\"" "is stamped as 1.2.3+4" \
    "version     1.2.3+4" "table at 0x08020000" "status      valid"
"$h7dfu" image info "$dir/v1.hex" >"$dir/i1" 2>&1 || { cat "$dir/i1"; fail "image info v1"; }
post_build "$dir/v2.hex" H7DFU_VERSION=v1.3.0
expect_words "post-build v2" "$dir/make.log" "version     1.3.0" "status      valid"

# No tag, no version: the build stops with the reason.
mkdir "$dir/empty" && git init -q "$dir/empty" || fail "git init (no tag)"
if GIT_DIR="$dir/empty/.git" make --no-print-directory -C "$src" BUILD_DIR="$out" H7DFU="$h7dfu" \
    "$out/cube-app.stamped.hex" >"$dir/make.log" 2>&1; then
    fail "post-build step stamped an image without a version"
fi
expect_words "post-build without a tag" "$dir/make.log" "no version for the image record"

chip --install "$dir/v1.hex" -- "$h7dfu" list >"$dir/l1" 2>&1 || { cat "$dir/l1"; fail "list v1"; }
expect_words "list v1" "$dir/l1" "0483:5750" "h7dfu cube-app" "serial=\"$serial\"" "h7dfu runtime (cube-app)"
chip --events -- "$h7dfu" update "$dir/v2.hex" >"$dir/o2" 2>&1 || { cat "$dir/o2"; fail "update v2"; }
expect_words "update v2" "$dir/o2" "runs version 1.2.3" "detaching the application" \
    "system reset (SYSRESETREQ" "is back, version 1.3.0 (cube-app 1.3.0)"
chip -- "$h7dfu" list >"$dir/l2" 2>&1 || { cat "$dir/l2"; fail "list v2"; }
expect_words "list v2" "$dir/l2" "0483:5750" "h7dfu cube-app"
echo "cube-app OK"
