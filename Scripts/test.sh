#!/usr/bin/env bash
# The test command: installs what the tests need when it is missing (Debian
# packages only if absent), then runs `swift test` with any arguments passed
# through. CI runs exactly this script (.ci/run).
#
#   Scripts/test.sh                       # everything
#   Scripts/test.sh --filter DamageTests  # one suite
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: the C libraries we link, python3 (tests play "another
# program" with its sqlite3 module), hledger (the export tests check our
# journals with it).
packages=(libsqlite3-dev zlib1g-dev python3 hledger)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "test.sh: installing ${missing[*]}"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

started=$(date +%s)
status=0
swift test "$@" || status=$?
echo "test.sh: swift test exited $status after $(( $(date +%s) - started )) s"
exit "$status"
