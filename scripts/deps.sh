#!/bin/sh
# Installs every Debian package h7dfu needs. Idempotent: does nothing when all
# are present. Called by `make deps`, which `make test` and `make demo` depend on.
set -eu

PKGS="build-essential cmake pkg-config git
clang clang-format-16 libclang-rt-dev
gcc-arm-none-eabi libnewlib-arm-none-eabi binutils-arm-none-eabi
libusb-1.0-0-dev libcmocka-dev
umockdev libumockdev-dev libglib2.0-dev
dfu-util usbutils qemu-system-arm groff-base python3 gcovr
libunicorn-dev python3-usb fwupd gcab
libmbedtls-dev openssl dpkg-dev debian-archive-keyring"

missing=""
# The firmware's mbedtls: Debian's source package, fetched once into
# build-deps/ (not the system's apt configuration).
fetch_mbedtls() {
	"$(dirname "$0")/fetch-mbedtls.sh" >/dev/null || echo "deps: could not fetch the mbedtls source (the signed bootloader needs it)" >&2
}

for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done
if [ -z "$missing" ]; then
	fetch_mbedtls
	exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
fetch_mbedtls
