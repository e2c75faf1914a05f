#!/usr/bin/env bash
# Off-site backups: ledger against the usual tools, side by side in one run,
# with the S3 test server (moto) on loopback:
#   backup:  ledger backup --to s3://…   vs  sqlite3 .backup + gzip -6 + aws s3 cp
#   restore: ledger restore s3://…       vs  aws s3 cp + gzip -dc
#   Scripts/bench-offsite.sh [TRANSACTIONS]     (default 1000000)
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

db="$work/bench.db"
make_sample "$db"

# Backups: the reference pipeline, then ledger with and without its verify.
reference_backup=$(timed "sqlite3 '$db' \".backup '$work/g.db'\" && gzip -6 -f '$work/g.db' && aws s3 cp --only-show-errors '$work/g.db.gz' 's3://$bucket/reference/g.db.gz'")
ledger_backup=$(timed "'$ledger' backup '$db' --to 's3://$bucket/ledger'"); backup_peak=$(peak)
fast_backup=$(timed "'$ledger' backup '$db' --to 's3://$bucket/fast' --no-verify"); fast_peak=$(peak)
snapshot=$("$ledger" snapshots "s3://$bucket/ledger" --json | python3 -c 'import json, sys; print(json.load(sys.stdin)[-1]["path"])')

# Restores: the reference pipeline, then ledger (its SHA-256 check always; its verify on, then off).
reference_restore=$(timed "aws s3 cp --only-show-errors '$snapshot' '$work/d.db.gz' && gzip -dc '$work/d.db.gz' > '$work/z.db' && rm '$work/d.db.gz'")
ledger_restore=$(timed "'$ledger' restore '$snapshot' --to '$work/r.db'"); restore_peak=$(peak)
fast_restore=$(timed "'$ledger' restore '$snapshot' --to '$work/f.db' --no-verify"); fast_restore_peak=$(peak)
same=$([ "$(sha256sum < "$work/z.db")" = "$(sha256sum < "$work/f.db")" ] && echo "identical" || echo "DIFFERENT")

printf '%-52s %7s s\n' "sqlite3 .backup + gzip -6 + aws s3 cp" "$reference_backup"
printf '%-52s %7s s  peak %s MiB\n' "ledger backup --to s3:// (verify on)" "$ledger_backup" "$backup_peak"
printf '%-52s %7s s  peak %s MiB\n' "ledger backup --to s3:// --no-verify" "$fast_backup" "$fast_peak"
echo "  backup speed vs the pipeline: $(ratio "$reference_backup" "$ledger_backup")x with verify, $(ratio "$reference_backup" "$fast_backup")x without (target >= 2.00)"
printf '%-52s %7s s\n' "aws s3 cp + gzip -dc" "$reference_restore"
printf '%-52s %7s s  peak %s MiB\n' "ledger restore s3:// (verify on)" "$ledger_restore" "$restore_peak"
printf '%-52s %7s s  peak %s MiB\n' "ledger restore s3:// --no-verify" "$fast_restore" "$fast_restore_peak"
echo "  restore time vs the pipeline: $(ratio "$ledger_restore" "$reference_restore") with verify, $(ratio "$fast_restore" "$reference_restore") without (target <= 1.30); restored file $same to the pipeline's"
echo "  peak memory target: <= 150 MiB"
