#!/usr/bin/env bash
# Verify against SQLite's own structure check on the same file, side by side.
#   Scripts/bench-verify.sh [TRANSACTIONS]     (default 1000000)
# Prints the times, the ratios and verify's peak memory. Needs the sqlite3 shell.
set -euo pipefail
cd "$(dirname "$0")/.."
count="${1:-1000000}"
swift build -c release --product ledger >/dev/null
ledger="$(swift build -c release --show-bin-path)/ledger"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
db="$work/bench.db"
echo "Making a sample of $count transactions..."
"$ledger" sample "$db" --transactions "$count" >/dev/null
echo "File: $(( $(stat -c %s "$db") / 1048576 )) MiB"

seconds() { # runs a command, prints its wall seconds; keeps /usr/bin/time's report in $work/time.txt
    /usr/bin/time -f "%e %M" -o "$work/time.txt" "$@" >/dev/null 2>&1 || true
    cut -d' ' -f1 "$work/time.txt"
}
peak_mib() { echo $(( $(cut -d' ' -f2 "$work/time.txt") / 1024 )); }

# Warm the page cache once so neither side pays for the first read.
cat "$db" > /dev/null

full_sqlite=$(seconds sqlite3 "$db" "PRAGMA integrity_check")
full_ledger=$(seconds "$ledger" verify "$db"); full_peak=$(peak_mib)
quick_sqlite=$(seconds sqlite3 "$db" "PRAGMA quick_check")
quick_ledger=$(seconds "$ledger" verify --quick "$db"); quick_peak=$(peak_mib)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
printf '%-42s %8s s\n' "sqlite3 PRAGMA integrity_check" "$full_sqlite"
printf '%-42s %8s s   ratio %s (target <= 1.30)   peak %s MiB\n' "ledger verify" "$full_ledger" "$(ratio "$full_ledger" "$full_sqlite")" "$full_peak"
printf '%-42s %8s s\n' "sqlite3 PRAGMA quick_check" "$quick_sqlite"
printf '%-42s %8s s   ratio %s (target <= 2.50)   peak %s MiB\n' "ledger verify --quick" "$quick_ledger" "$(ratio "$quick_ledger" "$quick_sqlite")" "$quick_peak"
