#!/usr/bin/env bash
# Times `ledger import` (release build) of a large CSV and a large OFX statement into a
# sample company file and reports its peak memory, beside Python's csv module (CSV) and a
# Python loop over the lines (OFX) reading the same file and summing its cents.
#   Scripts/bench-import.sh [MIB] [TRANSACTIONS]     (defaults 200 MiB each, a 1,000-transaction sample)
source "$(dirname "$0")/bench-common.sh"
mib="${1:-200}"
transactions="${2:-1000}"
ensure_debian_packages sqlite3
command -v python3 >/dev/null || { echo "bench-import.sh: the reference needs python3" >&2; exit 1; }
bytes=$((mib * 1048576))

echo "Making a CSV and an OFX statement of $mib MiB each..."
# Lines of many days and payees, one in ten with a quoted payee holding the delimiter.
awk -v bytes="$bytes" 'BEGIN {
    srand(7); size = 0; print "Date,Description,Amount"
    for (n = 0; size < bytes; n++) {
        cents = int(rand() * 2000000) - 1000000
        sign = cents < 0 ? "-" : ""; cents = cents < 0 ? -cents : cents
        payee = (n % 10 == 0) ? "\"Smith, John " n % 977 "\"" : "Payee " n % 5003
        line = sprintf("%04d-%02d-%02d,%s,%s%d.%02d", 2001 + n % 25, 1 + n % 12, 1 + n % 28, payee, sign, cents / 100, cents % 100)
        print line; size += length(line) + 1
    }
}' > "$work/statement.csv"
awk -v bytes="$bytes" 'BEGIN {
    srand(11); size = 0
    print "OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\nENCODING:USASCII\nCHARSET:1252\n"
    print "<OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS><CURDEF>USD"
    print "<BANKACCTFROM><BANKID>021000021<ACCTID>123456<ACCTTYPE>CHECKING</BANKACCTFROM><BANKTRANLIST>"
    for (n = 0; size < bytes; n++) {
        cents = int(rand() * 2000000) - 1000000
        sign = cents < 0 ? "-" : ""; cents = cents < 0 ? -cents : cents
        line = sprintf("<STMTTRN><TRNTYPE>%s<DTPOSTED>%04d%02d%02d<TRNAMT>%s%d.%02d<FITID>T%d<NAME>Payee %d &amp; Co<MEMO>Memo %d</STMTTRN>", \
            sign == "" ? "CREDIT" : "DEBIT", 2001 + n % 25, 1 + n % 12, 1 + n % 28, sign, cents / 100, cents % 100, n, n % 5003, n % 101)
        print line; size += length(line) + 1
    }
    print "</BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>"
}' > "$work/statement.ofx"
echo "CSV: $(( $(stat -c %s "$work/statement.csv") / 1048576 )) MiB, $(wc -l < "$work/statement.csv") lines;" \
    "OFX: $(( $(stat -c %s "$work/statement.ofx") / 1048576 )) MiB, $(wc -l < "$work/statement.ofx") lines"
"$ledger" sample "$work/sample.db" --transactions "$transactions" >/dev/null

# The references: each reads its file once, a line at a time, and sums the cents.
cat > "$work/csv_sum.py" <<'PY'
import csv, sys
rows, cents = 0, 0
with open(sys.argv[1], newline="") as f:
    reader = csv.reader(f)
    next(reader)
    for date, payee, amount in reader:
        whole, _, frac = amount.lstrip("-").partition(".")
        value = int(whole) * 100 + int(frac)
        cents += -value if amount.startswith("-") else value
        rows += 1
print(rows, cents)
PY
cat > "$work/ofx_sum.py" <<'PY'
import re, sys
amount = re.compile(r"<TRNAMT>(-?)(\d+)\.(\d\d)")
rows, cents = 0, 0
with open(sys.argv[1], encoding="latin-1") as f:
    for line in f:
        m = amount.search(line)
        if m:
            value = int(m.group(2)) * 100 + int(m.group(3))
            cents += -value if m.group(1) else value
            rows += 1
print(rows, cents)
PY

run() {
    local kind="$1" file="$2" reference="$3" options="$4"
    cp "$work/sample.db" "$work/books-$kind.db"
    cat "$file" > /dev/null
    local ledger_s reference_s ledger_mib reference_mib
    ledger_s=$(timed "'$ledger' import '$work/books-$kind.db' '$file' --account Checking $options")
    ledger_mib=$(peak)
    reference_s=$(timed "python3 '$work/$reference' '$file' > '$work/$kind.sum'")
    reference_mib=$(peak)
    local stored
    stored=$(sqlite3 "$work/books-$kind.db" \
        "SELECT COUNT(*) || ' ' || SUM(amount) FROM bank_feed WHERE downloaded_at = (SELECT MAX(downloaded_at) FROM bank_feed)")
    echo "$kind ($(( $(stat -c %s "$file") / 1048576 )) MiB):"
    echo "  ledger import:  ${ledger_s} s, peak ${ledger_mib} MiB; stored lines and cents: $stored"
    echo "  python3 $reference: ${reference_s} s, peak ${reference_mib} MiB; read: $(cat "$work/$kind.sum")"
    echo "  ratio:          $(ratio "$ledger_s" "$reference_s")x the time, $(ratio "$ledger_mib" "$reference_mib")x the memory"
}
echo "ledger import of a ${mib} MiB statement into a ${transactions}-transaction sample (release build)"
run csv "$work/statement.csv" csv_sum.py "--csv --date-col Date --amount-col Amount --payee-col Description"
run ofx "$work/statement.ofx" ofx_sum.py ""
