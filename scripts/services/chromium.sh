#!/usr/bin/env bash
# Starts Debian's chromedriver (with headless Chromium) on loopback for the
# console's browser tests and prints the environment they read.
# Usage: chromium.sh start|stop
source "$(dirname "$0")/../lib.sh"
PORT="${PRESSROOM_TEST_CHROMEDRIVER_PORT:-9515}"
PIDFILE="$PRESSROOM_VAR/run/chromedriver-test-$PORT.pid"
case "${1:-start}" in
start)
    # fonts-dejavu-core and fonts-liberation: readable text in the screenshots.
    ensure_apt chromium chromium-driver fonts-dejavu-core fonts-liberation
    if ! port_open 127.0.0.1 "$PORT"; then
        nohup chromedriver --port="$PORT" --allowed-ips=127.0.0.1 >"$PRESSROOM_VAR/log/chromedriver-test.log" 2>&1 &
        echo $! >"$PIDFILE"
        wait_for_port 127.0.0.1 "$PORT" 30
        log "chromedriver started on 127.0.0.1:$PORT"
    fi
    echo "export PRESSROOM_TEST_CHROMEDRIVER_URL=http://127.0.0.1:$PORT"
    echo "export PRESSROOM_TEST_CHROMEDRIVER_PORT=$PORT"
    echo "export PRESSROOM_TEST_CHROMIUM=$(command -v chromium || echo /usr/bin/chromium)"
    ;;
stop)
    [ -f "$PIDFILE" ] && kill "$(cat "$PIDFILE")" 2>/dev/null || true
    rm -f "$PIDFILE"
    ;;
esac
