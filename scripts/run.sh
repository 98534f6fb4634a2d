#!/usr/bin/env bash
# Quick start: installs what is missing, builds, starts a local redis-server
# on 127.0.0.1:6379 unless PRESSROOM_REDIS_URL points elsewhere or one is
# already answering, and runs the daemon with config/pressroom.example.yaml
# (objects go to var/objects, the sandbox vendor's tickets to
# var/sandbox-vendor). Extra arguments go to `pressroom run`; then
# `.build/release/pressroom demo` in another terminal shows the pipeline.
source "$(dirname "$0")/lib.sh"
cd "$PRESSROOM_ROOT"
ensure_apt "${PRESSROOM_BUILD_PACKAGES[@]}"
if [ -z "${PRESSROOM_REDIS_URL:-}" ] && ! port_open 127.0.0.1 6379; then
    mkdir -p "$PRESSROOM_VAR/redis"
    redis-server --bind 127.0.0.1 --port 6379 --dir "$PRESSROOM_VAR/redis" --appendonly yes \
        --daemonize yes --pidfile "$PRESSROOM_VAR/run/redis.pid" --logfile "$PRESSROOM_VAR/log/redis.log"
    wait_for_port 127.0.0.1 6379
    log "started redis-server on 127.0.0.1:6379 (data in $PRESSROOM_VAR/redis; stop it with: kill \$(cat $PRESSROOM_VAR/run/redis.pid))"
fi
log "building"
swift build -c release --product pressroom
log "running: .build/release/pressroom run --config config/pressroom.example.yaml $*"
log "in another terminal run: .build/release/pressroom demo   (a sample photo through derive, a two-line order, render and the sandbox vendor until shipped)"
exec .build/release/pressroom run --config config/pressroom.example.yaml "$@"
