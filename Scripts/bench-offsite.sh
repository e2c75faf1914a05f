#!/usr/bin/env bash
# Off-site backups: ledger against the usual tools, side by side in one run,
# with the S3 test server (moto) on loopback:
#   backup:  ledger backup --to s3://…   vs  sqlite3 .backup + gzip -6 + aws s3 cp
#   restore: ledger restore s3://…       vs  aws s3 cp + gzip -dc
#   Scripts/bench-offsite.sh [TRANSACTIONS] [PAIRS]     (defaults 1000000 and 3)
# Each pair runs the reference then ledger (A B A B …), with what they wrote
# removed from the server in between; each figure is the median of the pairs,
# and each ratio the median of the pairs' ratios.
# Uses the server named in LEDGER_S3_TEST_ENDPOINT, else starts moto_server on
# a free port (installs moto and the AWS CLI with pip when missing). Prints
# times, ratios and peak memory. Loopback has no real network's latency or
# bandwidth limit: this measures the tool, not the line.
source "$(dirname "$0")/bench-common.sh"
source "$(dirname "$0")/s3-test-server.sh"
ensure_s3_tools
if [ -z "${LEDGER_S3_TEST_ENDPOINT:-}" ]; then
    start_s3_test_server
    trap 'stop_s3_test_server; rm -rf "$work"' EXIT
fi
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_ENDPOINT_URL="$LEDGER_S3_TEST_ENDPOINT"
bucket="bench-$$"
aws s3 mb "s3://$bucket" >/dev/null

pairs="${2:-3}"
db="$work/bench.db"
make_sample "$db"

top() { local m=0; for p in "$@"; do [ "$p" -gt "$m" ] && m=$p; done; echo "$m"; }
clear_bucket() { aws s3 rm --recursive --only-show-errors "s3://$bucket/run" >/dev/null; rm -f "$work"/g.db "$work"/g.db.gz "$work"/d.db.gz "$work"/z.db "$work"/r.db "$work"/f.db; rm -rf "$work/backups"; }

# The snapshot every restore reads: ledger's, with its verify.
"$ledger" backup "$db" --to "s3://$bucket/keep" >/dev/null
snapshot=$("$ledger" snapshots "s3://$bucket/keep" --json | python3 -c 'import json, sys; print(json.load(sys.stdin)[-1]["path"])')

rb=(); lb=(); fb=(); rr=(); lr=(); fr=(); bpeak=(); fpeak=(); rpeak=(); frpeak=(); same=identical
for _ in $(seq 1 "$pairs"); do
    # Backups: the reference pipeline, then ledger with and without its verify.
    clear_bucket
    rb+=("$(timed "sqlite3 '$db' \".backup '$work/g.db'\" && gzip -6 -f '$work/g.db' && aws s3 cp --only-show-errors '$work/g.db.gz' 's3://$bucket/run/reference/g.db.gz'")")
    clear_bucket
    lb+=("$(timed "'$ledger' backup '$db' --to 's3://$bucket/run/ledger'")"); bpeak+=("$(peak)")
    clear_bucket
    fb+=("$(timed "'$ledger' backup '$db' --to 's3://$bucket/run/fast' --no-verify")"); fpeak+=("$(peak)")
    # Restores: the reference pipeline, then ledger (its SHA-256 check always; its verify on, then off).
    clear_bucket
    rr+=("$(timed "aws s3 cp --only-show-errors '$snapshot' '$work/d.db.gz' && gzip -dc '$work/d.db.gz' > '$work/z.db' && rm '$work/d.db.gz'")")
    lr+=("$(timed "'$ledger' restore '$snapshot' --to '$work/r.db'")"); rpeak+=("$(peak)")
    fr+=("$(timed "'$ledger' restore '$snapshot' --to '$work/f.db' --no-verify")"); frpeak+=("$(peak)")
    [ "$(sha256sum < "$work/z.db")" = "$(sha256sum < "$work/f.db")" ] && [ "$(sha256sum < "$work/z.db")" = "$(sha256sum < "$work/r.db")" ] || same=DIFFERENT
done
ratios() { local -n a=$1 b=$2; local out=(); for i in "${!a[@]}"; do out+=("$(ratio "${a[$i]}" "${b[$i]}")"); done; median "${out[@]}"; }

echo
echo "Median of $pairs pairs, $count transactions, $(( $(stat -c %s "$db") / 1048576 )) MiB file, $(nproc) cores."
printf '%-52s %7s s\n' "sqlite3 .backup + gzip -6 + aws s3 cp" "$(median "${rb[@]}")"
printf '%-52s %7s s  peak %s MiB\n' "ledger backup --to s3:// (verify on)" "$(median "${lb[@]}")" "$(top "${bpeak[@]}")"
printf '%-52s %7s s  peak %s MiB\n' "ledger backup --to s3:// --no-verify" "$(median "${fb[@]}")" "$(top "${fpeak[@]}")"
echo "  backup speed vs the pipeline: $(ratios rb lb)x with verify, $(ratios rb fb)x without (target >= 2.00)"
printf '%-52s %7s s\n' "aws s3 cp + gzip -dc" "$(median "${rr[@]}")"
printf '%-52s %7s s  peak %s MiB\n' "ledger restore s3:// (verify on)" "$(median "${lr[@]}")" "$(top "${rpeak[@]}")"
printf '%-52s %7s s  peak %s MiB\n' "ledger restore s3:// --no-verify" "$(median "${fr[@]}")" "$(top "${frpeak[@]}")"
echo "  restore time vs the pipeline: $(ratios lr rr) with verify, $(ratios fr rr) without (target <= 1.30); restored files $same to the pipeline's"
echo "  peak memory target: <= 150 MiB"
