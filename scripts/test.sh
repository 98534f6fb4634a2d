#!/usr/bin/env bash
# The test command: installs what is missing, starts every service the tests
# need on loopback (scripts/services/*.sh: redis, moto, ministack, clamd and the
# test vendor, which builds itself first), builds, runs the whole suite and stops
# the services it started. Extra arguments go to `swift test`.
source "$(dirname "$0")/lib.sh"
cd "$PRESSROOM_ROOT"

ensure_apt "${PRESSROOM_BUILD_PACKAGES[@]}" python3 python3-venv python3-pip curl ca-certificates

stop_services() {
    for svc in scripts/services/*.sh; do bash "$svc" stop || true; done
}
trap stop_services EXIT

# A service that fails to start stops the run with its own message (a bare
# `eval "$(…)"` would swallow the failure and test against nothing).
for svc in scripts/services/*.sh; do
    exports="$(bash "$svc" start)" || { log "$(basename "$svc" .sh) failed to start"; exit 1; }
    eval "$exports"
done

log "building"
build_log="$PRESSROOM_VAR/log/build.log"
swift build --build-tests 2>&1 | tee "$build_log"
log "checking for compiler warnings in Sources/"
bash scripts/check-warnings.sh "$build_log" "$PRESSROOM_ROOT"
log "checking systemd units"
bash scripts/verify-systemd.sh
log "testing"
if [ $# -gt 0 ]; then
    swift test --skip-build "$@"
else
    # Three runs, one after the other: the CPU-bound image tests, the tests
    # that run real `pressroom` processes, and the rest. On a 2-core machine,
    # seconds of libvips work beside process tests starved the latter's
    # waits (a SIGKILL test missed its window; a lock refresh came late).
    status=0
    swift test --skip-build --filter 'PressroomImagingTests\.' || status=1
    swift test --skip-build --filter 'PressroomDaemonTests\.' || status=1
    swift test --skip-build --skip 'PressroomImagingTests\.' --skip 'PressroomDaemonTests\.' || status=1
    exit $status
fi
