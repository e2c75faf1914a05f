#!/usr/bin/env bash
# Builds ledger, makes the bundled sample company (the same 500 transactions as
# SampleData/sample-company.sql) in demo/, looks at it, verifies it, prints
# its trial balance, then damages a copy and rebuilds it. Installs what it needs
# when it is missing, as Scripts/test.sh does: the C libraries the build links
# and the sqlite3 shell that damages the copy (Debian packages).
set -euo pipefail
cd "$(dirname "$0")/.."
source Scripts/debian-packages.sh
ensure_debian_packages "${build_packages[@]}" sqlite3
swift build --product ledger
ledger="$(swift build --show-bin-path)/ledger"
mkdir -p demo
rm -f demo/sample.db demo/sample.db-wal demo/sample.db-shm
"$ledger" sample demo/sample.db --transactions 500 --seed 1 --name "Sample Company"
"$ledger" info demo/sample.db
"$ledger" verify demo/sample.db
"$ledger" report trial-balance demo/sample.db --as-of 2025-12-31

# Damage a copy the way a crash or an old tool might (needs the sqlite3 shell),
# then let verify find it and rebuild repair it.
rm -rf demo/damaged.db demo/damaged.db-wal demo/damaged.db-shm demo/backups
cp demo/sample.db demo/damaged.db
sqlite3 demo/damaged.db >/dev/null <<'SQL'
PRAGMA foreign_keys = OFF;
DELETE FROM transactions WHERE id = (SELECT MIN(id) FROM transactions WHERE kind = 'credit_card_charge');
UPDATE splits SET amount = amount + 1000 WHERE id = (SELECT MAX(s.id) FROM splits s JOIN accounts a ON a.id = s.account_id WHERE a.type = 'expense');
UPDATE accounts SET balance = balance + 1 WHERE name = 'Checking';
SQL
"$ledger" verify demo/damaged.db || true
"$ledger" rebuild demo/damaged.db --backup-dir demo/backups || true
"$ledger" log demo/damaged.db --limit 5
