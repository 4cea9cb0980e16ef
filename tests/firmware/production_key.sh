#!/bin/sh
# A production firmware build refuses the test signing key by its content:
# its public half exported by openssl, without the test marker and under a
# name that does not say "test", is still refused at configure time.
#   production_key.sh SOURCE_DIR BUILD_DIR
set -u
src="$1"
out="$2/fw-production-exported"
command -v openssl >/dev/null || { echo "SKIP: no openssl"; exit 77; }
rm -rf "$out"
mkdir -p "$out"
openssl pkey -in "$src/tests/keys/test-signing-key.pem" -pubout -out "$out/product.pem" 2>/dev/null ||
    { echo "FAIL: openssl pkey"; exit 1; }
if grep -q "TEST" "$out/product.pem"; then
    echo "FAIL: the exported key still carries a marker"
    exit 1
fi
cmake -S "$src" -B "$out/build" -DCMAKE_TOOLCHAIN_FILE="$src/cmake/arm-none-eabi.cmake" \
    -DCMAKE_BUILD_TYPE=MinSizeRel -DH7_PRODUCTION=ON -DH7_SIGNING_KEY="$out/product.pem" \
    >"$out/log" 2>&1
rc=$?
tr '\n' ' ' <"$out/log" | grep -q "H7_PRODUCTION: .*product.pem *is *a *test *key" ||
    { cat "$out/log"; echo "FAIL: the exported test key was accepted (configure exit $rc)"; exit 1; }
[ "$rc" -ne 0 ] || { echo "FAIL: configure succeeded"; exit 1; }
echo "OK: the exported test key is refused"
