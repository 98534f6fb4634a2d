#!/usr/bin/env bash
# Starts Debian's clamd on loopback (TCP port PRESSROOM_TEST_CLAMD_PORT,
# default 3399) and on a unix socket under var/, with the signature database
# the repo ships (scripts/services/clamd/: EICAR and a custom test signature;
# no freshclam, no network). Prints the environment the tests read.
# Usage: clamd.sh start|stop
source "$(dirname "$0")/../lib.sh"
PORT="${PRESSROOM_TEST_CLAMD_PORT:-3399}"
DIR="$PRESSROOM_VAR/clamd-test-$PORT"
PIDFILE="$PRESSROOM_VAR/run/clamd-test-$PORT.pid"
SOCKET="$PRESSROOM_VAR/run/clamd-test-$PORT.sock"
DB="$PRESSROOM_ROOT/scripts/services/clamd"
# Small on purpose, so the tests can cross it: the daemon's scan.streamMaxLength
# must not exceed what clamd accepts.
STREAM_MAX="${PRESSROOM_TEST_CLAMD_STREAM_MAX:-4M}"

print_env() {
    echo "export PRESSROOM_TEST_CLAMD_PORT=$PORT"
    echo "export PRESSROOM_TEST_CLAMD_ADDRESS=tcp://127.0.0.1:$PORT"
    echo "export PRESSROOM_TEST_CLAMD_SOCKET=$SOCKET"
    echo "export PRESSROOM_TEST_CLAMD_STREAM_MAX=$STREAM_MAX"
}

case "${1:-start}" in
start)
    command -v clamd >/dev/null && command -v clamdscan >/dev/null || ensure_apt clamav-daemon clamdscan
    if port_open 127.0.0.1 "$PORT" && [ -S "$SOCKET" ]; then
        print_env
        exit 0
    fi
    [ -f "$PIDFILE" ] && kill "$(cat "$PIDFILE")" 2>/dev/null || true
    mkdir -p "$DIR"
    rm -f "$SOCKET"
    # clamd refuses a config naming options it does not know; keep to 1.0+ ones.
    cat >"$DIR/clamd.conf" <<CONF
Foreground yes
DatabaseDirectory $DB
TCPSocket $PORT
TCPAddr 127.0.0.1
LocalSocket $SOCKET
LocalSocketMode 600
PidFile $PIDFILE
LogFile $PRESSROOM_VAR/log/clamd-test-$PORT.log
LogTime yes
StreamMaxLength $STREAM_MAX
MaxFileSize $STREAM_MAX
MaxScanSize 100M
AlertExceedsMax yes
MaxThreads 4
ReadTimeout 30
CommandReadTimeout 10
SelfCheck 0
# Scan every stream for real: clamd's cache of clean hashes would make a
# second scan of the same bytes free (and benchmarks meaningless).
DisableCache yes
Bytecode no
OfficialDatabaseOnly no
TemporaryDirectory $DIR
CONF
    if [ "$(id -u)" -eq 0 ]; then
        # clamd drops to this user when it starts as root.
        echo "User root" >>"$DIR/clamd.conf"
    fi
    nohup clamd --config-file="$DIR/clamd.conf" >"$PRESSROOM_VAR/log/clamd-test-$PORT.out" 2>&1 &
    echo $! >"$PIDFILE"
    wait_for_port 127.0.0.1 "$PORT" 60 || { cat "$PRESSROOM_VAR/log/clamd-test-$PORT.out" >&2; exit 1; }
    for _ in $(seq 50); do [ -S "$SOCKET" ] && break; sleep 0.1; done
    log "clamd started on 127.0.0.1:$PORT and $SOCKET (test signatures only)"
    print_env
    ;;
stop)
    [ -f "$PIDFILE" ] && kill "$(cat "$PIDFILE")" 2>/dev/null || true
    rm -f "$PIDFILE" "$SOCKET"
    ;;
esac
