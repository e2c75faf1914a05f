# Sourced by the Scripts/bench-*.sh benchmarks: builds the release tool, makes a
# scratch folder removed on exit, and gives the timing helpers they share.
# Sets: count (the first argument, default 1000000), ledger, work.
set -euo pipefail
cd "$(dirname "$0")/.."
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

# timed COMMAND: wall seconds of a shell command; "seconds peak-KiB" stays in $work/t for peak.
# (GNU time puts "Command exited with non-zero status N" first when a command
# reports findings, so the figures are read from the last line.)
timed() {
    /usr/bin/time -f "%e %M" -o "$work/t" bash -c "$1" >/dev/null 2>&1 || true
    tail -n 1 "$work/t" | cut -d' ' -f1
}
peak() { echo $(( $(tail -n 1 "$work/t" | cut -d' ' -f2) / 1024 )); }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
