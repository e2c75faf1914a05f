#!/usr/bin/env bash
# ledger backup and restore against the usual tools on the same file, side by side:
#   backup:  ledger backup   vs  sqlite3 FILE ".backup x.db" && gzip -6 x.db   and   ... && pigz -6 x.db
#   restore: ledger restore --no-verify   vs  gzip -dc SNAPSHOT > file
#   Scripts/bench-backup.sh [TRANSACTIONS]     (default 1000000)
# Installs pigz with apt if it is missing. Prints times, ratios, sizes and peak memory.
source "$(dirname "$0")/bench-common.sh"
ensure_debian_packages pigz
db="$work/bench.db"
make_sample "$db"

ledger_backup=$(timed "'$ledger' backup '$db' --to '$work/snapshots'"); backup_peak=$(peak)
snapshot=$(ls "$work"/snapshots/*.gz)
fast_backup=$(timed "'$ledger' backup '$db' --to '$work/fast' --no-verify"); fast_peak=$(peak)
gzip_backup=$(timed "sqlite3 '$db' \".backup '$work/g.db'\" && gzip -6 -f '$work/g.db'")
pigz_backup=$(timed "sqlite3 '$db' \".backup '$work/p.db'\" && pigz -6 -f '$work/p.db'")
ledger_size=$(stat -c %s "$snapshot"); gzip_size=$(stat -c %s "$work/g.db.gz"); pigz_size=$(stat -c %s "$work/p.db.gz")

ledger_restore=$(timed "'$ledger' restore '$snapshot' --to '$work/r.db' --no-verify"); restore_peak=$(peak)
gzip_restore=$(timed "gzip -dc '$snapshot' > '$work/z.db'")

printf '%-44s %7s s  %6s MiB\n' "sqlite3 .backup + gzip -6" "$gzip_backup" "$(( gzip_size / 1048576 ))"
printf '%-44s %7s s  %6s MiB\n' "sqlite3 .backup + pigz -6" "$pigz_backup" "$(( pigz_size / 1048576 ))"
printf '%-44s %7s s  %6s MiB  peak %s MiB\n' "ledger backup (online copy, verify, gzip)" "$ledger_backup" "$(( ledger_size / 1048576 ))" "$backup_peak"
printf '%-44s %7s s  %6s MiB  peak %s MiB\n' "ledger backup --no-verify" "$fast_backup" "$(( ledger_size / 1048576 ))" "$fast_peak"
echo "  backup speed vs sqlite3+gzip: $(ratio "$gzip_backup" "$ledger_backup")x faster with verify, $(ratio "$gzip_backup" "$fast_backup")x without (target >= 2.00)"
echo "  vs sqlite3+pigz: $(ratio "$pigz_backup" "$ledger_backup")x with verify, $(ratio "$pigz_backup" "$fast_backup")x without"
echo "  size vs gzip -6: $(ratio "$ledger_size" "$gzip_size") (target <= 1.02)"
printf '%-44s %7s s\n' "gzip -dc > file" "$gzip_restore"
printf '%-44s %7s s  peak %s MiB\n' "ledger restore --no-verify" "$ledger_restore" "$restore_peak"
echo "  restore vs gzip -dc: $(ratio "$ledger_restore" "$gzip_restore") (target <= 1.30)"
