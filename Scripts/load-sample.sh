#!/usr/bin/env bash
# Turns the bundled SQL dump into a company file to play with:
#   Scripts/load-sample.sh [FILE]      (default: sample.db; never overwrites)
# Needs the sqlite3 shell (apt-get install sqlite3).
set -euo pipefail
target="${1:-sample.db}"
dump="$(cd "$(dirname "$0")/.." && pwd)/SampleData/sample-company.sql"
if [ -e "$target" ]; then
    echo "load-sample: $target already exists; choose another name or move it away." >&2
    exit 2
fi
sqlite3 "$target" < "$dump"
sqlite3 "$target" "PRAGMA journal_mode = WAL;" >/dev/null
echo "Made $target from SampleData/sample-company.sql."
