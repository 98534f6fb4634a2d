#!/usr/bin/env bash
# Starts a throwaway redis-server on loopback for the tests and prints the
# environment the tests read. Usage: redis.sh start|stop
source "$(dirname "$0")/../lib.sh"
PORT="${PRESSROOM_TEST_REDIS_PORT:-6399}"
DIR="$PRESSROOM_VAR/redis-test-$PORT"
PIDFILE="$PRESSROOM_VAR/run/redis-test-$PORT.pid"
case "${1:-start}" in
start)
    if ! port_open 127.0.0.1 "$PORT"; then
        mkdir -p "$DIR"
        redis-server --bind 127.0.0.1 --port "$PORT" --dir "$DIR" --save "" --appendonly no \
            --daemonize yes --pidfile "$PIDFILE" --logfile "$PRESSROOM_VAR/log/redis-test.log" >/dev/null
        wait_for_port 127.0.0.1 "$PORT"
        log "redis-server started on 127.0.0.1:$PORT"
    fi
    echo "export PRESSROOM_TEST_REDIS_URL=redis://127.0.0.1:$PORT"
    echo "export PRESSROOM_TEST_REDIS_PORT=$PORT"
    ;;
stop)
    [ -f "$PIDFILE" ] && kill "$(cat "$PIDFILE")" 2>/dev/null || true
    rm -f "$PIDFILE"
    ;;
esac
