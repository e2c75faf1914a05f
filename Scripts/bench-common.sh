# Sourced by the Scripts/bench-*.sh benchmarks: builds the release tool, makes a
# scratch folder removed on exit, and gives the timing helpers they share.
# Sets: count (the first argument, default 1000000), ledger, work.
set -euo pipefail
cd "$(dirname "$0")/.."
# ensure_debian_packages PKG…: what a benchmark's reference needs, installed only when absent.
source Scripts/debian-packages.sh
count="${1:-1000000}"
swift build -c release --product ledger >/dev/null
ledger="$(swift build -c release --show-bin-path)/ledger"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# make_sample PATH: a sample of $count transactions, read once so the page cache is warm.
make_sample() {
    echo "Making a sample of $count transactions..."
    "$ledger" sample "$1" --transactions "$count" >/dev/null
    echo "File: $(( $(stat -c %s "$1") / 1048576 )) MiB"
    cat "$1" > /dev/null
}

# timed COMMAND: wall seconds of a shell command; "seconds peak-KiB user sys" stays in
# $work/t for peak and cpu. (GNU time puts "Command exited with non-zero status N"
# first when a command reports findings, so the figures are read from the last line.)
timed() {
    /usr/bin/time -f "%e %M %U %S" -o "$work/t" bash -c "$1" >/dev/null 2>&1 || true
    tail -n 1 "$work/t" | cut -d' ' -f1
}
peak() { echo $(( $(tail -n 1 "$work/t" | cut -d' ' -f2) / 1024 )); }
# cpu: the CPU seconds (user and system, children included) of the last timed command.
cpu() { tail -n 1 "$work/t" | awk '{ printf "%.2f", $3 + $4 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
# median N…: the middle figure (the mean of the two middle ones for an even count).
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# plant_faults PATH: 1,000 faults of eleven kinds, planted with the sqlite3 shell
# as other programs and damage would (foreign keys and CHECKs off).
plant_faults() {
    echo "Planting 1,000 faults..."
    sqlite3 "$1" >/dev/null <<'SQL'
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
}
