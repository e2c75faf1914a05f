#!/usr/bin/env bash
# Verify against SQLite's own structure check on the same file, side by side.
#   Scripts/bench-verify.sh [TRANSACTIONS]     (default 1000000)
# Prints the times, the ratios and verify's peak memory. Needs the sqlite3 shell.
source "$(dirname "$0")/bench-common.sh"
db="$work/bench.db"
make_sample "$db"

full_sqlite=$(timed "sqlite3 '$db' 'PRAGMA integrity_check'")
full_ledger=$(timed "'$ledger' verify '$db'"); full_peak=$(peak)
quick_sqlite=$(timed "sqlite3 '$db' 'PRAGMA quick_check'")
quick_ledger=$(timed "'$ledger' verify --quick '$db'"); quick_peak=$(peak)
printf '%-42s %8s s\n' "sqlite3 PRAGMA integrity_check" "$full_sqlite"
printf '%-42s %8s s   ratio %s (target <= 1.30)   peak %s MiB\n' "ledger verify" "$full_ledger" "$(ratio "$full_ledger" "$full_sqlite")" "$full_peak"
printf '%-42s %8s s\n' "sqlite3 PRAGMA quick_check" "$quick_sqlite"
printf '%-42s %8s s   ratio %s (target <= 2.50)   peak %s MiB\n' "ledger verify --quick" "$quick_ledger" "$(ratio "$quick_ledger" "$quick_sqlite")" "$quick_peak"
