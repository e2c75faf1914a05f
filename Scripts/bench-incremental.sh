#!/usr/bin/env bash
# Page-level incremental snapshots (docs/incremental.md) against a full snapshot
# and against restic, on the same file after the same change (issue 29):
#   (a) a realistic day: 'ledger import' of a 300-line statement, 'feed match
#       --add-unmatched', and 200 edited transactions;
#   (b) 1% of the file's pages changed at random;
#   then 96 incrementals (a day at 15 minutes) and a restore of the newest.
#   Scripts/bench-incremental.sh [TRANSACTIONS] [INCREMENTALS]   (defaults 1000000 and 96)
# Installs Debian's restic with apt if it is missing. Prints bytes and objects
# written, times, ratios and peak memory.
source "$(dirname "$0")/bench-common.sh"
rounds="${2:-96}"
ensure_debian_packages restic
db="$work/bench.db"
make_sample "$db"
file_bytes=$(stat -c %s "$db")
pages=$(( file_bytes / $(sqlite3 "$db" "PRAGMA page_size") ))
export RESTIC_PASSWORD=bench RESTIC_REPOSITORY="$work/restic"
restic init -q >/dev/null
restic backup -q "$db" >/dev/null

# The full snapshot and its restore, for comparison.
full_backup=$(timed "'$ledger' backup '$db' --to '$work/full'"); full_peak=$(peak)
full_snapshot=$(ls "$work"/full/*.gz)
full_restore=$(timed "'$ledger' restore '$full_snapshot' --to '$work/restored-full.db' --no-verify")

# The location's first full snapshot and its first incremental (every page new).
"$ledger" backup "$db" --to "$work/inc" --incremental >/dev/null
"$ledger" backup "$db" --to "$work/inc" --incremental >/dev/null

# objects_since MARK: "bytes objects" of the files in the location newer than MARK.
objects_since() {
    find "$work/inc" -type f -newer "$1" ! -name '.ledger.lock' -printf '%s\n' \
        | awk '{ bytes += $1; count += 1 } END { printf "%d %d\n", bytes, count }'
}

# incremental LABEL: one incremental backup after a change, beside restic's backup of the same file.
incremental() {
    touch "$work/mark"; sleep 1
    local seconds; seconds=$(timed "'$ledger' backup '$db' --to '$work/inc' --incremental"); local memory; memory=$(peak)
    read -r bytes objects < <(objects_since "$work/mark")
    local added
    added=$(restic backup "$db" 2>&1 | sed -n 's/^Added to the repository: \([^ ]*\) \([A-Za-z]*\).*/\1 \2/p')
    local restic_bytes
    restic_bytes=$(awk -v v="${added% *}" -v u="${added#* }" 'BEGIN {
        m = (u == "KiB") ? 1024 : (u == "MiB") ? 1048576 : (u == "GiB") ? 1073741824 : 1; printf "%d", v * m }')
    printf '%-34s %9.2f MiB %4d objects %7ss  peak %4s MiB | restic added %s (%sx ledger)\n' "$1" \
        "$(awk -v b="$bytes" 'BEGIN { print b / 1048576 }')" "$objects" "$seconds" "$memory" "$added" \
        "$(ratio "$restic_bytes" "$(( bytes > 0 ? bytes : 1 ))")"
    echo "  written: $(awk -v b="$bytes" -v f="$file_bytes" 'BEGIN { printf "%.2f", 100 * b / f }')% of the file (target <= 2%, <= 16 objects); time vs full backup: $(ratio "$seconds" "$full_backup") (target <= 0.35)"
    echo "  snapshot object: $(stat -c %s "$(ls -t "$work"/inc/*.gz | head -n 1)") bytes; pack indexes: $(find "$work/inc/packs" -name '*.index' -newer "$work/mark" -printf '%s\n' | awk '{ b += $1; n += 1 } END { printf "%d bytes in %d", b, n }')"
}

# (a) A realistic day.
python3 - "$work/statement.csv" <<'PY'
import random, sys
random.seed(29)
with open(sys.argv[1], "w") as out:
    out.write("Date,Amount,Payee,Id\n")
    for n in range(300):
        amount = random.choice([-1, 1]) * random.randint(100, 500000) / 100
        out.write(f"2026-11-{1 + n % 28:02d},{amount:.2f},Payee {random.randint(1, 400)},bench-{n}\n")
PY
"$ledger" import "$db" "$work/statement.csv" --account Checking --csv --date-col Date --amount-col Amount \
    --payee-col Payee --id-col Id >/dev/null || true
"$ledger" feed match "$db" --account Checking --add-unmatched --to-account "Uncategorized Expense" >/dev/null || true
sqlite3 "$db" "UPDATE transactions SET memo = 'edited ' || id WHERE id IN (SELECT id FROM transactions ORDER BY random() LIMIT 200)"
incremental "(a) a realistic day"

# (b) 1% of the pages changed at random (one row on each of that many random pages).
sqlite3 "$db" "UPDATE transactions SET memo = hex(randomblob(6)) WHERE id IN (SELECT abs(random()) % (SELECT max(id) FROM transactions) + 1 FROM transactions LIMIT $(( pages / 100 )))"
incremental "(b) 1% of pages changed"

# Where an incremental's time goes: the same few edits backed up without the quick
# verify of the copy (--no-verify: the snapshot is then not a good copy), and the
# quick verify of the file alone.
sqlite3 "$db" "UPDATE transactions SET memo = 'unverified' WHERE id IN (SELECT id FROM transactions ORDER BY random() LIMIT 5)"
unverified=$(timed "'$ledger' backup '$db' --to '$work/inc' --incremental --no-verify")
quick_verify=$(timed "'$ledger' verify '$db' --quick")
echo "  an incremental without its quick verify: ${unverified}s ($(ratio "$unverified" "$full_backup") of a full backup); 'ledger verify --quick' of the file alone: ${quick_verify}s ($(ratio "$quick_verify" "$full_backup"))"

# A day at 15 minutes: $rounds incrementals of a few edits each, then restore the newest.
touch "$work/mark"; sleep 1
for round in $(seq "$rounds"); do
    sqlite3 "$db" "UPDATE transactions SET memo = 'round $round' WHERE id IN (SELECT id FROM transactions ORDER BY random() LIMIT 5)"
    "$ledger" backup "$db" --to "$work/inc" --incremental >/dev/null
done
newest=$("$ledger" snapshots "$work/inc" --json | python3 -c 'import json, sys; print(json.load(sys.stdin)[-1]["path"])')
echo "$rounds incrementals: snapshot objects $(find "$work/inc" -maxdepth 1 -name '*.gz' -newer "$work/mark" -printf '%s\n' | awk '{ b += $1 } END { printf "%d", b }') bytes, all objects $(objects_since "$work/mark" | awk '{ printf "%d bytes in %d", $1, $2 }')"
inc_restore=$(timed "'$ledger' restore '$newest' --to '$work/restored-inc.db' --no-verify"); inc_peak=$(peak)
printf '%-34s %9ss  peak %4s MiB\n' "full ledger backup" "$full_backup" "$full_peak"
printf '%-34s %9ss\n' "restore of the full snapshot" "$full_restore"
printf '%-34s %9ss  peak %4s MiB\n' "restore of incremental $rounds" "$inc_restore" "$inc_peak"
echo "  restore vs full: $(ratio "$inc_restore" "$full_restore") (target <= 1.30); location: $(du -sm "$work/inc" | cut -f1) MiB for $(( rounds + 4 )) snapshots"
