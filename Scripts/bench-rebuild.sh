#!/usr/bin/env bash
# Rebuild against verify on the same damaged file, side by side.
#   Scripts/bench-rebuild.sh [TRANSACTIONS]     (default 1000000)
# Makes a sample, plants 1,000 faults of eleven kinds with the sqlite3 shell,
# times `ledger verify` on it, then `ledger rebuild` on a copy of it, and prints
# both times, the ratio and rebuild's peak memory. Needs the sqlite3 shell.
source "$(dirname "$0")/bench-common.sh"
db="$work/bench.db"
make_sample "$db"

echo "Planting 1,000 faults..."
sqlite3 "$db" >/dev/null <<'SQL'
PRAGMA foreign_keys = OFF;
PRAGMA ignore_check_constraints = ON;
BEGIN;
-- 200 checks lost: their lines become orphans, their feed links point at nothing.
DELETE FROM transactions WHERE id IN (SELECT id FROM transactions WHERE kind = 'check' AND id % 7 = 3 ORDER BY id LIMIT 200);
-- 200 expense lines edited out of balance.
UPDATE splits SET amount = amount + 100 WHERE id IN (
  SELECT s.id FROM splits s JOIN accounts a ON a.id = s.account_id WHERE a.type = 'expense' AND s.id % 11 = 5 ORDER BY s.id LIMIT 200);
-- 100 open balances of invoices and bills off by a cent.
UPDATE documents SET balance_due = balance_due + 1 WHERE transaction_id IN (
  SELECT transaction_id FROM documents WHERE transaction_id % 13 = 1 ORDER BY transaction_id LIMIT 100);
-- 100 applications from a payment that does not exist.
UPDATE applications SET payment_id = 987654321 WHERE id IN (SELECT id FROM applications WHERE id % 17 = 2 ORDER BY id LIMIT 100);
-- 100 feed lines matched to nothing.
UPDATE bank_feed SET status = 'matched', transaction_id = NULL WHERE id IN (
  SELECT id FROM bank_feed WHERE status = 'new' ORDER BY id LIMIT 100);
-- 100 customer and vendor balances off.
UPDATE parties SET balance = balance + 1 WHERE id IN (SELECT id FROM parties ORDER BY id LIMIT 100);
-- 50 transactions without lines, 50 lines without their invoice.
INSERT INTO transactions (kind, date, created_at, modified_at)
  SELECT 'check', '2025-06-01', '2025-06-01T10:00:00Z', '2025-06-01T10:00:00Z' FROM splits LIMIT 50;
INSERT INTO document_lines (transaction_id, description, amount) SELECT 900000000 + id, 'lost', 100 FROM accounts LIMIT 50;
-- 50 reconciled lines unmarked.
UPDATE splits SET cleared = 'c' WHERE id IN (SELECT id FROM splits WHERE cleared = 'r' AND id % 5 = 0 ORDER BY id LIMIT 50);
-- 25 account balances off, 25 invoice headers lost.
UPDATE accounts SET balance = balance + 1 WHERE id IN (SELECT id FROM accounts ORDER BY id LIMIT 25);
DELETE FROM documents WHERE transaction_id IN (
  SELECT d.transaction_id FROM documents d WHERE NOT EXISTS (SELECT 1 FROM applications WHERE document_id = d.transaction_id)
  ORDER BY d.transaction_id LIMIT 25);
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
SQL
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
