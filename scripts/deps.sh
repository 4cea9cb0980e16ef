#!/bin/sh
# Installs every Debian package h7dfu needs. Idempotent: does nothing when all
# are present. Called by `make deps`, which `make test` and `make demo` depend on.
set -eu

PKGS="build-essential cmake pkg-config git
clang clang-format libclang-rt-dev
gcc-arm-none-eabi libnewlib-arm-none-eabi binutils-arm-none-eabi
libusb-1.0-0-dev libcmocka-dev
umockdev libumockdev-dev libglib2.0-dev
dfu-util usbutils qemu-system-arm groff-base python3 gcovr
libunicorn-dev python3-usb fwupd gcab"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
