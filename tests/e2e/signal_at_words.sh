#!/bin/sh
# signal_at_words.sh LOG WORDS SIGNAL OUT ERR -- CMD...
# Runs CMD in the background (stdout to OUT, stderr to ERR), sends it SIGNAL
# once the board's flash log (h7dfu-sim --flash-log LOG) shows WORDS
# programmed flash words, or CMD has ended, or 30 s have passed; then waits
# for it and exits with its status. Used inside a board run, so that a test
# stops a write part-way whatever the speed of the machine.
log="$1" words="$2" sig="$3" out="$4" err="$5"
shift 5
[ "$1" = "--" ] && shift
"$@" >"$out" 2>"$err" &
pid=$!
i=0
while [ $i -lt 3000 ]; do
    n=$(grep -c " program " "$log" 2>/dev/null)
    [ "${n:-0}" -ge "$words" ] && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.01
    i=$((i + 1))
done
kill "-$sig" $pid 2>/dev/null
wait $pid
