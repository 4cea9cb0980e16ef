#!/bin/sh
# The reported field failure ("failed to download Segment[0]" right after sector 0 was
# erased), injected at the first data block: h7dfu shows the DFU state and
# status, what they mean and what to do, never leaves, the board stays in DFU
# mode, and the same command run again finishes.
. "$(dirname "$0")/lib.sh"
app_image "$dir/v1.bin" 56512
app_image "$dir/v2.bin" 56512

for status in errWRITE errTARGET; do
    rm -f "$fl" "$fl.ob"
    rom --rom-fail-block "1:$status" --install "$dir/v1.bin" -- sh -c '
        "$1" -w 2 update -s 0x08000000 "$2" > "$3/u1.out" 2> "$3/u1.err"; echo $? > "$3/u1.rc"
        "$1" --json list > "$3/mid.json"
        "$1" -w 2 update -s 0x08000000 "$2" > "$3/u2.out" 2> "$3/u2.err"; echo $? > "$3/u2.rc"
    ' sh "$h7dfu" "$dir/v2.bin" "$dir" >"$dir/out" 2>"$dir/err" || fail "$status: sim run"
    [ "$(cat "$dir/u1.rc")" -eq 6 ] || { cat "$dir/u1.err"; fail "$status: first try exit $(cat "$dir/u1.rc"), want 6"; }
    expect_words "$status: failure report" "$dir/u1.err" "block 2 at 0x08000000" "dfuERROR" \
        "$status" "What to do" "stays in DFU mode" "do NOT reset or unplug" "same command again"
    expect_words "$status: injected" "$dir/err" "ROM: INJECTED $status on data block 2"
    # Still in DFU mode between the tries (ST's ROM, not the app).
    grep -q 'df11' "$dir/mid.json" || { cat "$dir/mid.json"; fail "$status: board left DFU mode"; }
    grep -q '5750' "$dir/mid.json" && fail "$status: an app runs after a failed write"
    # Exactly one leave in the whole run: the one after the successful retry.
    [ "$(grep -c 'ROM: leave' "$dir/err")" -eq 1 ] || { cat "$dir/err"; fail "$status: leaves"; }
    [ "$(cat "$dir/u2.rc")" -eq 0 ] || { cat "$dir/u2.err"; fail "$status: retry exit $(cat "$dir/u2.rc")"; }
    expect_words "$status: retry" "$dir/u2.err" "already in DFU mode" "verify" "is back"
    flash_bytes 0 56512 "$dir/back.bin"
    cmp "$dir/v2.bin" "$dir/back.bin" || fail "$status: retry did not write the image"
done

# Plain `h7dfu write` reports the same way (exit 6) and does not leave.
rm -f "$fl" "$fl.ob"
h7 --boot0 --rom-fail-block 1:errPROG -- write -s 0x08000000:leave "$dir/v1.bin"
expect_rc 6 "write with errPROG"
expect_words "write errPROG" "$dir/err" "dfuERROR" "errPROG" "What to do"
no_words "write errPROG" "$dir/err" "ROM: leave"
echo OK
