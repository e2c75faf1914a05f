#!/usr/bin/env bash
# Rebuild against verify on the same damaged file, side by side.
#   Scripts/bench-rebuild.sh [TRANSACTIONS]     (default 1000000)
# Makes a sample, plants 1,000 faults of eleven kinds with the sqlite3 shell,
# times `ledger verify` on it, then `ledger rebuild` on a copy of it, and prints
# both times, the ratio and rebuild's peak memory. Needs the sqlite3 shell.
source "$(dirname "$0")/bench-common.sh"
db="$work/bench.db"
make_sample "$db"

plant_faults "$db"
cp "$db" "$work/rebuild.db"
cat "$work/rebuild.db" > /dev/null

verify=$(timed "'$ledger' verify '$db'"); verify_peak=$(peak)
findings=$("$ledger" verify "$db" --json | grep -c '"code"' || true)
rebuild=$(timed "'$ledger' rebuild '$work/rebuild.db' --backup-dir '$work/backups'"); rebuild_peak=$(peak)
"$ledger" rebuild "$work/rebuild.db" --backup-dir "$work/backups" --dry-run --json > "$work/again.json" || true
left=$("$ledger" verify "$work/rebuild.db" --json | grep '"repairable" : true' -c || true)
printf '%-42s %8s s   %s findings   peak %s MiB\n' "ledger verify (damaged file)" "$verify" "$findings" "$verify_peak"
printf '%-42s %8s s   ratio %s (target <= 3.00)   peak %s MiB\n' "ledger rebuild (same file)" "$rebuild" "$(ratio "$rebuild" "$verify")" "$rebuild_peak"
printf '  after rebuild: %s repairable findings left; a second rebuild would change %s rows\n' "$left" \
    "$(grep -o '"changed_rows" : [0-9]*' "$work/again.json" | grep -o '[0-9]*$')"
