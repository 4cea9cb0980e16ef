#!/bin/sh
# clang-format over every C source and header the project owns.
# usage: format.sh fix|check
# clang-format 16 (Debian's clang-format-16, scripts/deps.sh): .clang-format's
# InsertBraces needs 15 or later.
set -eu
cd "$(dirname "$0")/.."
CF=$(command -v clang-format-16 || true)
[ -n "$CF" ] || { echo "format.sh: clang-format-16 not installed (make deps)" >&2; exit 2; }
files=$(git ls-files --cached --others --exclude-standard -- '*.c' '*.h' | while read -r f; do [ -f "$f" ] && echo "$f"; done)
[ -n "$files" ] || exit 0
case "${1:-check}" in
fix) echo "$files" | xargs "$CF" -i ;;
check) echo "$files" | xargs "$CF" --dry-run -Werror ;;
*) echo "usage: $0 fix|check" >&2; exit 2 ;;
esac
