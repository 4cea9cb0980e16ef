#!/bin/sh
# docs/h7dfu.1 renders without warnings and documents what the program has:
# every command of `h7dfu --help`, every global option, every command's own
# long options, and every exit code of host/cli/cli.h.
#   manpage.sh MANPAGE H7DFU CLI_H
set -u
page="$1" h7dfu="$2" cli_h="$3"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
export LC_ALL=C.UTF-8 MANWIDTH=100

if command -v groff >/dev/null; then
    groff -man -Tutf8 -ww -z "$page" 2>"$dir/warn" || fail "groff failed"
    [ -s "$dir/warn" ] && { cat "$dir/warn"; fail "groff warnings"; }
    groff -man -Tutf8 -P-cbou "$page" >"$dir/text" 2>/dev/null || fail "groff render"
elif command -v mandoc >/dev/null; then
    mandoc -T lint -W warning "$page" >"$dir/warn" 2>&1 || { cat "$dir/warn"; fail "mandoc lint"; }
    mandoc -T utf8 "$page" | col -b >"$dir/text" || fail "mandoc render"
else
    echo "SKIP: neither groff nor mandoc is installed (scripts/deps.sh)"
    exit 77
fi
[ -s "$dir/text" ] || fail "empty rendering"
# The source with \- as -: option names looked up here cannot be split by a
# line break in the rendering.
sed 's/\\-/-/g' "$page" >"$dir/source"

# section NAME: the rendered text of one section.
section() {
    awk -v s="$1" '/^[A-Z]/ { on = ($0 == s) } on' "$dir/text"
}
for s in NAME SYNOPSIS DESCRIPTION COMMANDS OPTIONS "ADDRESS SYNTAX" "EXIT STATUS" ENVIRONMENT \
    FILES EXAMPLES "SEE ALSO"; do
    [ -n "$(section "$s")" ] || fail "no section $s"
done

"$h7dfu" --help >"$dir/help" || fail "h7dfu --help"
cmds=$(awk '/^Commands:/ { on = 1; next } on && /^$/ { on = 0 } on { print $1 }' "$dir/help")
[ "$(echo "$cmds" | wc -l)" -ge 7 ] || fail "could not read the commands from --help"
section COMMANDS >"$dir/commands"
section SYNOPSIS >"$dir/synopsis"
for c in $cmds; do
    grep -qE "^ {7}$c( |\$)" "$dir/commands" || fail "command '$c' has no entry under COMMANDS"
    grep -qE "h7dfu +\[OPTIONS\] +$c( |\$)" "$dir/synopsis" || fail "command '$c' not in SYNOPSIS"
    # The command's own long options.
    "$h7dfu" "$c" --help >"$dir/chelp" || fail "h7dfu $c --help"
    for opt in $(grep -oE -- '--[a-z][a-z-]+' "$dir/chelp" | sort -u); do
        [ "$opt" = --help ] && continue
        grep -qF -- "$opt" "$dir/source" || fail "option $opt of '$c' not in the man page"
    done
done

# Global options: short and long form, under OPTIONS.
section OPTIONS >"$dir/options"
grep -E '^  -[a-zA-Z], --' "$dir/help" | while read -r short long _; do
    short=${short%,}
    grep -qE -- "^ {7}$short(,| )" "$dir/options" || { echo "FAIL: $short not under OPTIONS"; exit 1; }
    grep -qF -- "$long" "$dir/options" || { echo "FAIL: $long not under OPTIONS"; exit 1; }
done || exit 1

# Exit codes: every value of enum h7_exit, under EXIT STATUS.
codes=$(sed -n '/^enum h7_exit/,/^};/p' "$cli_h" | grep -oE '= [0-9]+' | grep -oE '[0-9]+')
[ -n "$codes" ] || fail "no exit codes found in $cli_h"
section "EXIT STATUS" >"$dir/exit"
for n in $codes; do
    grep -qE "^ {7}$n( |\$)" "$dir/exit" || fail "exit code $n not under EXIT STATUS"
done
echo OK
