# Sourced by Scripts/test.sh and Scripts/bench-offsite.sh: the S3 test server.
#   ensure_s3_tools        installs moto's server and the AWS CLI with pip when missing
#   start_s3_test_server   starts moto on a free loopback port and exports LEDGER_S3_TEST_ENDPOINT
#   stop_s3_test_server    ends it (SIGKILL: children of the Swift test runner block SIGTERM)
export PATH="$PATH:$HOME/.local/bin"

pip_install() {
    echo "$(basename "$0"): installing $1"
    python3 -m pip install --quiet "$1" 2>/dev/null \
        || python3 -m pip install --quiet --break-system-packages "$1"
}

ensure_s3_tools() {
    command -v moto_server >/dev/null 2>&1 || pip_install "moto[server]"
    command -v aws >/dev/null 2>&1 || pip_install awscli
    hash -r
}

start_s3_test_server() {
    s3_server_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    moto_server -H 127.0.0.1 -p "$s3_server_port" >/dev/null 2>&1 &
    s3_server_pid=$!
    for _ in $(seq 1 150); do
        python3 -c "import socket; socket.create_connection(('127.0.0.1', $s3_server_port), 1)" 2>/dev/null && break
        sleep 0.2
    done
    export LEDGER_S3_TEST_ENDPOINT="http://127.0.0.1:$s3_server_port"
}

stop_s3_test_server() {
    [ -n "${s3_server_pid:-}" ] || return 0
    kill -9 "$s3_server_pid" 2>/dev/null || true
    pkill -KILL -f "moto_server -H 127.0.0.1 -p $s3_server_port" 2>/dev/null || true
    # Reaped here, so that the shell does not announce the kill.
    wait "$s3_server_pid" 2>/dev/null || true
}
