#!/usr/bin/env bash
# Times `ledger sample` (release build) and reports its peak memory and the file's size.
#   Scripts/bench-sample.sh [TRANSACTIONS]     (default 1000000)
source "$(dirname "$0")/bench-common.sh"
/usr/bin/time -v "$ledger" sample "$work/bench.db" --transactions "$count" 2> "$work/time.txt" >/dev/null
seconds=$(grep "Elapsed (wall clock)" "$work/time.txt" | awk '{print $NF}')
peak_kb=$(grep "Maximum resident set size" "$work/time.txt" | awk '{print $NF}')
bytes=$(stat -c %s "$work/bench.db")
echo "ledger sample --transactions $count"
echo "  wall time:    $seconds (m:ss)"
echo "  peak memory:  $((peak_kb / 1024)) MiB"
echo "  file size:    $((bytes / 1048576)) MiB ($bytes bytes)"
