#!/usr/bin/env bash
# The test command: installs what the tests need when it is missing (Debian
# and pip packages only if absent), starts the S3 test server (moto) on a free
# loopback port and stops it after, then runs `swift test` with any arguments
# passed through. CI runs exactly this script (.ci/run).
#
#   Scripts/test.sh                       # everything
#   Scripts/test.sh --filter DamageTests  # one suite
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: the C libraries we link (SQLite, zlib, libdeflate), python3 (tests play "another
# program" with its sqlite3 module; moto runs on it), hledger (the export tests
# check our journals with it), age (encrypted snapshots are checked against it),
# chromium and chromium-driver (the fleet report page is checked in a real headless browser).
source Scripts/debian-packages.sh
ensure_debian_packages "${build_packages[@]}" python3 python3-pip hledger age chromium chromium-driver

# Python packages: moto's S3 API server, which the object-storage tests talk
# to, and the AWS CLI, which reads back what ledger wrote there (and writes
# what ledger must read). The server runs on a free loopback port, named for
# the tests, and is stopped after them.
source Scripts/s3-test-server.sh
ensure_s3_tools
start_s3_test_server
trap stop_s3_test_server EXIT

# The formatter's lint, configured by .swift-format and Tests/.swift-format (CONTRIBUTING.md,
# "Format"): any warning fails the run before the tests start.
echo "test.sh: swift format lint --strict"
swift format lint --strict --recursive Sources Tests Package.swift

started=$(date +%s)
status=0
swift test "$@" || status=$?
echo "test.sh: swift test exited $status after $(( $(date +%s) - started )) s"
exit "$status"
