#!/usr/bin/env bash
# Builds ledger, makes the bundled sample company (the same 500 transactions as
# SampleData/sample-company.sql) in demo/, looks at it, verifies it and prints
# its trial balance.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --product ledger
ledger="$(swift build --show-bin-path)/ledger"
mkdir -p demo
rm -f demo/sample.db demo/sample.db-wal demo/sample.db-shm
"$ledger" sample demo/sample.db --transactions 500 --seed 1 --name "Sample Company"
"$ledger" info demo/sample.db
"$ledger" verify demo/sample.db
"$ledger" report trial-balance demo/sample.db --as-of 2025-12-31
