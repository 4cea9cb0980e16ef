#!/bin/sh
# bench/multi_board.sh BUILD_DIR: `h7dfu update` of 8 boards at once, each on
# its own port of the virtual bus (h7dfu-sim --board), against one board.
#
# Every board runs a stamped application v1.0.0 and is updated to v1.0.1
# (a different image: every touched sector is erased and written). The host
# side is `h7dfu update --all --parallel 8` when this h7dfu has it, else 8
# `h7dfu -S SERIAL update` processes started together. Prints:
#   modeled   virtual time of each board (h7dfu-sim --stats, one JSON object
#             per board): one board alone, then the slowest and the mean of 8
#   x one     slowest of 8 / one board alone; the target is at most 1.3
#   host      CPU time (user+sys) of the host side per board, and its peak
#             memory (max RSS of one h7dfu process)
#   sim       CPU time of h7dfu-sim per board (8 boards in one process)
# BENCH_SHORT=1: a 128 KiB image and --fast boards, a check that it runs.
# Exit 1 when a run fails or the 8 boards take more than 1.3 x one board.
set -eu
B=${1:-build-bench}
case $B in /*) ;; *) B=$(pwd)/$B ;; esac
SIM=$B/sim/board/h7dfu-sim
H7=$B/host/cli/h7dfu
for t in "$SIM" "$H7"; do
    [ -x "$t" ] || { echo "bench: $t missing (build $B first)" >&2; exit 1; }
done
N=8
W=$(mktemp -d /tmp/h7multi.XXXXXX)
trap 'rm -rf "$W"' EXIT
SIZE=524288
FAST=""
if [ "${BENCH_SHORT:-0}" != 0 ]; then
    SIZE=131072
    FAST=--fast
    echo "bench: short mode (BENCH_SHORT): 128 KiB image, --fast boards, figures not comparable"
fi
LC_ALL=C; export LC_ALL

# stamped images v1.0.0 and v1.0.1: bodies linked at 0x08020000 (plausible
# SP and Thumb reset vector), different content
for v in 0 1; do
    awk -v n=$SIZE -v seed=$((v + 7)) 'BEGIN { srand(seed); for (i = 0; i < n; i++) printf "%c", int(rand() * 256) }' >"$W/body$v.bin"
    printf '\000\000\002\040\001\006\002\010' | dd of="$W/body$v.bin" bs=1 conv=notrunc 2>/dev/null
    "$H7" -q image stamp -V 1.0.$v -s 0x08020000 "$W/body$v.bin" "$W/v$v.bin"
done
# a flash file running v1.0.0 (prepared outside the measured runs)
# shellcheck disable=SC2086
"$SIM" $FAST --flash "$W/base.flash" run -- "$H7" -q write --no-skip "$W/v0.bin" >/dev/null

PARALLEL=0
"$H7" update --help 2>&1 | grep -q -- '--parallel' && PARALLEL=1

# measure K: update K boards at once; $W/stats.K (JSON lines), $W/host.K
# ("user sys maxrss_kib" per h7dfu process), $W/sim.K ("user sys maxrss")
measure() {
    k=$1
    boards=""
    i=1
    while [ $i -le "$k" ]; do
        cp "$W/base.flash" "$W/b$i.flash"
        boards="$boards --board serial=H7MB$(printf %04d $i),flash=$W/b$i.flash"
        i=$((i + 1))
    done
    rm -f "$W"/host."$k".* "$W/stats.$k"
    if [ $PARALLEL = 1 ]; then
        host="/usr/bin/time -f '%U %S %M' -o $W/host.$k.all $H7 -q update --all --parallel $k $W/v1.bin || echo FAIL"
    else
        host=""
        i=1
        while [ $i -le "$k" ]; do
            s=H7MB$(printf %04d $i)
            host="$host /usr/bin/time -f '%U %S %M' -o $W/host.$k.$s $H7 -q -S $s update $W/v1.bin || echo FAIL $s &"
            i=$((i + 1))
        done
        host="$host wait"
    fi
    # shellcheck disable=SC2086
    /usr/bin/time -f '%U %S %M' -o "$W/sim.$k" "$SIM" $FAST --stats "$W/stats.$k" $boards \
        run -- sh -c "$host" >"$W/out.$k" 2>&1 || {
        echo "bench: $k board(s): the run failed:" >&2
        cat "$W/out.$k" >&2
        exit 1
    }
    if grep -q '^FAIL' "$W/out.$k"; then
        echo "bench: $k board(s): an update failed:" >&2
        cat "$W/out.$k" >&2
        exit 1
    fi
    # every board runs v1.0.1 now: no board was left out
    n1=$(grep -c '"mode":"demo application"' "$W/stats.$k" || true)
    [ "$n1" -eq "$k" ] || { echo "bench: $k board(s): only $n1 run the application" >&2; cat "$W/out.$k" >&2; exit 1; }
}

modeled() { # modeled K: "max mean"
    sed -n 's/.*"modeled_s":\([0-9.]*\).*/\1/p' "$W/stats.$1" |
        awk '{ s += $1; if ($1 > m) m = $1 } END { printf "%.3f %.3f", m, s / NR }'
}
hostcpu() { # hostcpu K: "cpu_per_board maxrss_kib"
    cat "$W"/host."$1".* | awk -v k="$1" '{ c += $1 + $2; if ($3 > m) m = $3 } END { printf "%.3f %d", c / k, m }'
}

measure 1
measure $N
read -r one _ <<EOF2
$(modeled 1)
EOF2
read -r max mean <<EOF2
$(modeled $N)
EOF2
read -r h1cpu h1rss <<EOF2
$(hostcpu 1)
EOF2
read -r hncpu hnrss <<EOF2
$(hostcpu $N)
EOF2
simcpu=$(awk -v k=$N '{ printf "%.3f", ($1 + $2) / k }' "$W/sim.$N")
simrss=$(awk '{ print $3 }' "$W/sim.$N")
ratio=$(awk -v a="$max" -v b="$one" 'BEGIN { printf "%.2f", a / b }')

echo
echo "update of $((SIZE / 1024)) KiB (v1.0.0 -> v1.0.1), $N boards on ports 1-1..1-$N, host: $([ $PARALLEL = 1 ] && echo "h7dfu update --all --parallel $N" || echo "$N x h7dfu -S SERIAL update")"
printf '%-28s %10s %10s %8s %14s %14s\n' "case" "modeled" "mean" "x one" "host CPU/board" "host max RSS"
printf '%-28s %9.3fs %9.3fs %8s %13.3fs %11d KiB\n' "1 board" "$one" "$one" "1.00" "$h1cpu" "$h1rss"
printf '%-28s %9.3fs %9.3fs %8s %13.3fs %11d KiB\n' "$N boards in parallel" "$max" "$mean" "$ratio" "$hncpu" "$hnrss"
echo "h7dfu-sim ($N boards in one process): CPU $simcpu s per board, max RSS $simrss KiB"
if awk -v r="$ratio" 'BEGIN { exit !(r > 1.3) }'; then
    echo "bench: $N boards took ${ratio}x one board (target: at most 1.3x)" >&2
    exit 1
fi
