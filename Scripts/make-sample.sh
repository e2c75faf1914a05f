#!/usr/bin/env bash
# Regenerates SampleData/sample-company.sql, the bundled sample company (500
# transactions, seed 1), from `ledger sample`. Needs the sqlite3 shell.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --product ledger >/dev/null
ledger="$(swift build --show-bin-path)/ledger"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$ledger" sample "$work/sample.db" --transactions 500 --seed 1 --name "Sample Company" >/dev/null
{
    echo "-- The ledger sample company: 500 transactions, seed 1. Made by Scripts/make-sample.sh; do not edit."
    echo "-- Turn it into a company file with: Scripts/load-sample.sh sample.db"
    sqlite3 "$work/sample.db" .dump
    echo "PRAGMA application_id = 1279607879;"
    echo "PRAGMA user_version = 1;"
} > SampleData/sample-company.sql
echo "Wrote SampleData/sample-company.sql ($(wc -l < SampleData/sample-company.sql) lines)."
