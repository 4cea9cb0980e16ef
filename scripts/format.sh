#!/bin/sh
# clang-format over every C source and header the project owns.
# usage: format.sh fix|check
set -eu
cd "$(dirname "$0")/.."
files=$(git ls-files --cached --others --exclude-standard -- '*.c' '*.h' | while read -r f; do [ -f "$f" ] && echo "$f"; done)
[ -n "$files" ] || exit 0
case "${1:-check}" in
fix) echo "$files" | xargs clang-format -i ;;
check) echo "$files" | xargs clang-format --dry-run -Werror ;;
*) echo "usage: $0 fix|check" >&2; exit 2 ;;
esac
