# Sourced by Scripts/demo.sh and Scripts/test.sh: Debian packages, installed only when absent.
#   build_packages                 the C libraries every build of ledger links (SQLite, zlib, libdeflate)
#   ensure_debian_packages PKG…    installs with apt-get (through sudo unless root) those not installed
build_packages=(libsqlite3-dev zlib1g-dev libdeflate-dev)

ensure_debian_packages() {
    local missing=() package
    for package in "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
    [ "${#missing[@]}" -gt 0 ] || return 0
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "$(basename "$0"): this needs ${missing[*]}, and there is no apt-get here: install them with your system's package manager, then run it again." >&2
        return 1
    fi
    echo "$(basename "$0"): installing ${missing[*]}"
    local sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}
