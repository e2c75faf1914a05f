#!/usr/bin/env bash
# The fleet report at the size of a large firm (issue 28): `ledger fleet report` of
# N clients' status records (default 5,000, each with 60 nights of history, one in
# ten with 50 findings) written as text, JSON, CSV and HTML; target under 10 s.
#   Scripts/bench-fleet-report.sh [CLIENTS]
# Prints the time, the peak memory and the sizes of what was written.
set -euo pipefail
cd "$(dirname "$0")/.."
clients="${1:-5000}"
swift build -c release --product ledger >/dev/null
ledger="$(swift build -c release --show-bin-path)/ledger"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "Writing $clients status records..."
python3 - "$work/fleet" "$clients" <<'PY'
import json, os, random, sys, datetime
root, count = sys.argv[1], int(sys.argv[2])
random.seed(28)
now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
def ts(hours): return (now - datetime.timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")
outcomes = ["clean"] * 8 + ["findings", "failed"]
for i in range(count):
    slug = f"client-{i:05d}"
    os.makedirs(f"{root}/{slug}", exist_ok=True)
    size = random.randint(2_000_000, 60_000_000)
    history = [{"day": (now - datetime.timedelta(days=60 - d)).strftime("%Y-%m-%d"),
                "outcome": random.choice(outcomes), "file_bytes": size + d * 10_000,
                "snapshot_bytes": size // 3 + d * 3_000} for d in range(60)]
    verify = {"at": ts(random.uniform(1, 40)), "outcome": random.choice(outcomes)}
    if i % 10 == 0:
        verify["outcome"] = "findings"
        verify["by_severity"] = {"error": 20, "warning": 40}
        verify["findings"] = [{"code": "unbalanced-transaction", "severity": "error",
                               "message": f"Transaction {n} does not balance by $0.0{n % 10}."} for n in range(50)]
    record = {"format": "ledger-client-status", "version": 1, "client": f"Client {i} & Co", "slug": slug,
              "updated_at": ts(1), "verify": verify,
              "backup": {"at": ts(2), "outcome": "clean", "last_good_at": ts(random.uniform(1, 60)),
                         "last_good_bytes": size // 3},
              "drill": {"at": ts(50), "outcome": "clean", "last_proven_at": ts(random.uniform(1, 300))},
              "size": {"at": ts(1), "bytes": size, "page_size": 4096, "free_pages": random.randint(0, size // 8192)},
              "history": history}
    with open(f"{root}/{slug}/ledger-status.json", "w") as f:
        json.dump(record, f)
PY
du -sh "$work/fleet" | cut -f1 | xargs echo "Records on disk:"
cat "$work"/fleet/*/ledger-status.json > /dev/null

/usr/bin/time -f "%e %M" -o "$work/t" "$ledger" fleet report "$work/fleet" --json \
    --csv "$work/report.csv" --html "$work/report.html" > "$work/report.json" || true
read -r seconds peak < <(tail -n 1 "$work/t")  # GNU time says "exited with status 1" first when a client needs attention
verdict=$(awk -v s="$seconds" 'BEGIN { print (s < 10) ? "yes" : "NO" }')
echo
printf '| %-44s | %8s | %8s | %-4s | %9s |\n' operation seconds target met peak
printf '|%s|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..46})" "----------" "----------" "------" "-----------"
printf '| %-44s | %8s | %8s | %-4s | %5s MiB |\n' "fleet report of $clients clients (JSON+CSV+HTML)" \
    "$seconds" "< 10" "$verdict" "$(( peak / 1024 ))"
echo
echo "Written: JSON $(( $(stat -c %s "$work/report.json") / 1024 )) KiB, CSV $(( $(stat -c %s "$work/report.csv") / 1024 )) KiB, HTML $(( $(stat -c %s "$work/report.html") / 1024 )) KiB"
