#!/bin/sh
# Fetches Debian's mbedtls source package (bookworm: 2.28.3) into
# build-deps/mbedtls for the signed bootloader (firmware/CMakeLists.txt) and
# extracts it; dpkg-source checks the .dsc checksums. The system's apt
# configuration is not touched: a private source list, lists and cache live
# under build-deps/apt. Does nothing when the tree is already there.
# Prints the extracted directory.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEPS="$ROOT/build-deps"
OUT="$DEPS/mbedtls"
if [ -f "$OUT/include/mbedtls/ecdsa.h" ]; then
	echo "$OUT"
	exit 0
fi

D="$DEPS/apt"
mkdir -p "$D/sp" "$D/lists/partial" "$D/cache/archives/partial"
printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' >"$D/sp/src.sources"
O="-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts=$D/sp -o Dir::State::Lists=$D/lists -o Dir::Cache=$D/cache"
# shellcheck disable=SC2086
apt-get -qq $O update >&2
# shellcheck disable=SC2086
(cd "$DEPS" && apt-get -qq $O source --download-only mbedtls >&2)
dsc=$(ls "$DEPS"/mbedtls_*.dsc | tail -n 1)
rm -rf "$OUT.tmp"
(cd "$DEPS" && dpkg-source -x "$dsc" "$OUT.tmp" >&2)
mv "$OUT.tmp" "$OUT"
echo "$OUT"
