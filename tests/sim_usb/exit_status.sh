#!/bin/sh
# h7dfu-sim exits with COMMAND's status, and fails on a command it cannot run.
set -u
sim="$1"
"$sim" run -- sh -c 'exit 7'; rc=$?
[ $rc -eq 7 ] || { echo "FAIL: status $rc, want 7"; exit 1; }
"$sim" run -- true || { echo "FAIL: true"; exit 1; }
"$sim" run -- /nonexistent/command 2>/dev/null && { echo "FAIL: nonexistent command succeeded"; exit 1; }
"$sim" bogus 2>/dev/null; rc=$?
[ $rc -eq 2 ] || { echo "FAIL: usage status $rc, want 2"; exit 1; }
echo OK
