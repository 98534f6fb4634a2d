#!/usr/bin/env bash
# Starts pressroom-test-vendor, Pressroom's strict test print vendor (see
# docs/test-vendor.md), on loopback and prints the environment the tests
# read. Builds the binary first when it is missing or older than its
# sources. Usage: vendor.sh start|stop
# PRESSROOM_TEST_VENDOR_BUILD=release builds and runs a release binary
# (benchmarks: a debug vendor spends more CPU per request on the shared cores).
source "$(dirname "$0")/../lib.sh"
PORT="${PRESSROOM_TEST_VENDOR_PORT:-7399}"
BUILD="${PRESSROOM_TEST_VENDOR_BUILD:-debug}"
case "$BUILD" in debug | release) ;; *) log "PRESSROOM_TEST_VENDOR_BUILD must be debug or release"; exit 1 ;; esac
PIDFILE="$PRESSROOM_VAR/run/vendor-test-$PORT.pid"
STATE="$PRESSROOM_VAR/run/vendor-test-$PORT.env"
LOG="$PRESSROOM_VAR/log/vendor-test.log"
BUILD_LOG="$PRESSROOM_VAR/log/vendor-build.log"
BINARY="$PRESSROOM_ROOT/.build/$BUILD/pressroom-test-vendor"
# What the binary is built from (its target and everything it links of ours).
SOURCES=(Package.swift Sources/PressroomTestVendor Sources/PressroomHTTP Sources/PressroomSupport Sources/CCurlShims Sources/CCurl)

running() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

build_if_stale() {
    cd "$PRESSROOM_ROOT"
    if [ -x "$BINARY" ] && [ -z "$(find "${SOURCES[@]}" -newer "$BINARY" -print -quit)" ]; then
        return 0
    fi
    ensure_apt pkg-config libcurl4-openssl-dev
    log "building pressroom-test-vendor ($BUILD; the first build takes a few minutes; log: $BUILD_LOG)"
    swift build -c "$BUILD" --product pressroom-test-vendor >"$BUILD_LOG" 2>&1 \
        || { tail -n 40 "$BUILD_LOG" >&2; log "building pressroom-test-vendor failed"; return 1; }
    # SwiftPM skips relinking when nothing that matters changed: mark it fresh.
    touch "$BINARY"
}

case "${1:-start}" in
start)
    build_if_stale
    binary_stamp="$(stat -c %Y "$BINARY")"
    if port_open 127.0.0.1 "$PORT"; then
        if running && [ -f "$STATE" ] && grep -qxF "# binary $BINARY $binary_stamp" "$STATE"; then
            grep '^export' "$STATE"
            exit 0
        fi
        # Ours but from an older binary, or half started: replace it.
        running && kill "$(cat "$PIDFILE")" 2>/dev/null || true
        for _ in $(seq 50); do port_open 127.0.0.1 "$PORT" || break; sleep 0.1; done
        port_open 127.0.0.1 "$PORT" && { log "port $PORT is taken by another process (set PRESSROOM_TEST_VENDOR_PORT)"; exit 1; }
    fi
    nohup "$BINARY" --host 127.0.0.1 --port "$PORT" >"$LOG" 2>&1 </dev/null &
    echo $! >"$PIDFILE"
    if ! wait_for_port 127.0.0.1 "$PORT" 30 || ! running; then
        tail -n 20 "$LOG" >&2
        log "pressroom-test-vendor did not start on 127.0.0.1:$PORT"
        exit 1
    fi
    {
        echo "# binary $BINARY $binary_stamp"
        echo "export PRESSROOM_TEST_VENDOR_URL=http://127.0.0.1:$PORT"
        echo "export PRESSROOM_TEST_VENDOR_PORT=$PORT"
    } >"$STATE"
    log "pressroom-test-vendor started on 127.0.0.1:$PORT (log: $LOG)"
    grep '^export' "$STATE"
    ;;
stop)
    running && kill "$(cat "$PIDFILE")" 2>/dev/null || true
    rm -f "$PIDFILE" "$STATE"
    ;;
*)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
