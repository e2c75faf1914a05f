#!/usr/bin/env bash
# Every speed figure of the project in one run, as one table (issue 15):
#   verify / integrity_check, verify --quick / quick_check, backup / (.backup + gzip -6),
#   backup --no-verify / (.backup + pigz -6), restore / gzip -dc, rebuild of 1,000 faults / verify.
#   Scripts/bench.sh [TRANSACTIONS] [PAIRS]     (defaults 1000000 and 3)
# Each pair runs ledger then the reference (A B A B …); the ratio is the median
# of the pairs' ratios. Peak memory is ledger's largest over its runs. Needs the
# sqlite3 shell; installs pigz if missing. The machine is noisy: compare only
# figures of one run.
source "$(dirname "$0")/bench-common.sh"
pairs="${2:-3}"
ensure_debian_packages pigz
db="$work/bench.db"
make_sample "$db"
"$ledger" backup "$db" --to "$work/snapshot" --level 6 >/dev/null
snapshot=$(ls "$work"/snapshot/*.gz)
damaged="$work/damaged.db"
cp "$db" "$damaged"
plant_faults "$damaged"

# row LABEL REFERENCE-LABEL TARGET LEDGER-COMMAND REFERENCE-COMMAND [SETUP-COMMAND]
# SETUP runs untimed before each timed command (fresh copies for rebuild and restore).
row() {
    local label=$1 reference=$2 target=$3 ours=$4 theirs=$5 setup=${6:-true}
    local ratios=() ours_times=() theirs_times=() top=0
    for _ in $(seq 1 "$pairs"); do
        bash -c "$setup"
        local a; a=$(timed "$ours"); local p; p=$(peak); [ "$p" -gt "$top" ] && top=$p
        bash -c "$setup"
        local b; b=$(timed "$theirs")
        ours_times+=("$a"); theirs_times+=("$b"); ratios+=("$(ratio "$a" "$b")")
    done
    local r; r=$(median "${ratios[@]}")
    local verdict; verdict=$(awk -v r="$r" -v t="$target" 'BEGIN { print (r <= t) ? "yes" : "NO" }')
    printf '| %-28s | %-30s | %8s | %8s | %6s | %6s | %-4s | %5s MiB |\n' "$label" "$reference" \
        "$(median "${ours_times[@]}")" "$(median "${theirs_times[@]}")" "$r" "≤ $target" "$verdict" "$top"
}

echo
echo "Median of $pairs pairs, $count transactions, $(( $(stat -c %s "$db") / 1048576 )) MiB file, $(nproc) cores."
printf '| %-28s | %-30s | %8s | %8s | %6s | %6s | %-4s | %9s |\n' operation reference "ledger s" "ref s" ratio target met "peak"
printf '|%s|%s|%s|%s|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..30})" "$(printf -- '-%.0s' {1..32})" "----------" "----------" "--------" "--------" "------" "-----------"
row "verify" "sqlite3 PRAGMA integrity_check" 0.80 \
    "'$ledger' verify '$db'" "sqlite3 '$db' 'PRAGMA integrity_check'"
row "verify --quick" "sqlite3 PRAGMA quick_check" 1.20 \
    "'$ledger' verify --quick '$db'" "sqlite3 '$db' 'PRAGMA quick_check'"
row "backup (verify on)" "sqlite3 .backup + gzip -6" 0.50 \
    "'$ledger' backup '$db' --to '$work/b'" "sqlite3 '$db' \".backup '$work/g.db'\" && gzip -6 -f '$work/g.db'" \
    "rm -rf '$work/b' '$work/g.db' '$work/g.db.gz'"
row "backup --no-verify" "sqlite3 .backup + pigz -6" 0.80 \
    "'$ledger' backup '$db' --to '$work/b' --no-verify" "sqlite3 '$db' \".backup '$work/p.db'\" && pigz -6 -f '$work/p.db'" \
    "rm -rf '$work/b' '$work/p.db' '$work/p.db.gz'"
row "restore (verify on)" "gzip -dc" 2.00 \
    "'$ledger' restore '$snapshot' --to '$work/r.db'" "gzip -dc '$snapshot' > '$work/z.db'" \
    "rm -rf '$work/r.db' '$work/z.db' '$work/backups'"
row "rebuild of 1,000 faults" "ledger verify of the same file" 2.00 \
    "'$ledger' rebuild '$work/copy.db' --backup-dir '$work/rb'" "'$ledger' verify '$damaged'" \
    "rm -rf '$work/rb' && cp '$damaged' '$work/copy.db'"
