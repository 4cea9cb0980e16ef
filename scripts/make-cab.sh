#!/bin/sh
# Builds an fwupd cabinet from a stamped h7dfu image:
#   scripts/make-cab.sh STAMPED.dfu VERSION OUT.cab [METAINFO.in]
# STAMPED.dfu is a DfuSe file from `h7dfu image stamp -V X.Y.Z ... app.dfu`:
# the body and the record as two elements, which fwupd's dfu plugin writes in
# file order, the record last. VERSION is the release as fwupd
# shows the application, major.minor (bcdDevice, h7_app_bcd_device): 2.0 for
# an image stamped 2.0.x; the script checks it against the image's record.
# METAINFO.in defaults to dist/fwupd/h7dfu.metainfo.xml.in. Needs gcab, and
# h7dfu on PATH or in $H7DFU.
set -eu
[ $# -ge 3 ] && [ $# -le 4 ] || {
    echo "usage: $0 STAMPED.dfu VERSION OUT.cab [METAINFO.in]" >&2
    exit 2
}
in="$1" version="$2" out="$3"
root=$(cd "$(dirname "$0")/.." && pwd)
meta="${4:-$root/dist/fwupd/h7dfu.metainfo.xml.in}"
h7dfu="${H7DFU:-h7dfu}"
command -v gcab >/dev/null 2>&1 || { echo "$0: gcab is not installed" >&2; exit 1; }

case "$version" in
[0-9]*.[0-9]*) ;;
*) echo "$0: VERSION must be major.minor (e.g. 2.0), not '$version'" >&2; exit 2 ;;
esac

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The image's own version (its record): major.minor must be VERSION.
"$h7dfu" image info -f dfuse "$in" >"$tmp/info" 2>&1 || {
    cat "$tmp/info" >&2
    echo "$0: $in is not a stamped DfuSe image the bootloader would start" >&2
    exit 1
}
stamped=$(sed -n 's/^version *\([0-9]*\)\.\([0-9]*\)\..*/\1.\2/p' "$tmp/info" | head -n 1)
[ -n "$stamped" ] || { echo "$0: $in is not stamped (h7dfu image stamp)" >&2; exit 1; }
[ "$stamped" = "$version" ] || {
    echo "$0: $in is stamped $stamped, not $version" >&2
    exit 1
}

cp "$in" "$tmp/firmware.dfu"

# GUID of the instance ID USB\VID_0483&PID_5750: a name-based UUID (RFC 4122
# 4.3, version 5, SHA-1) in the DNS namespace, as fwupd derives them.
guid=$(python3 -c 'import sys, uuid; print(uuid.uuid5(uuid.NAMESPACE_DNS, sys.argv[1]))' \
    'USB\VID_0483&PID_5750')
sed -e "s/@VERSION@/$version/g" -e "s/@DATE@/$(date -u +%Y-%m-%d)/g" \
    -e "s/@GUID@/$guid/g" -e "s/@ID@/org.h7dfu.demo.firmware/g" \
    "$meta" >"$tmp/firmware.metainfo.xml"

(cd "$tmp" && gcab -c -n out.cab firmware.metainfo.xml firmware.dfu)
mv "$tmp/out.cab" "$out"
