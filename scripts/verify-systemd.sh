#!/usr/bin/env bash
# Checks the systemd units with `systemd-analyze verify` (and reports their
# `systemd-analyze security` exposure). Fails on any error or warning, since
# verify exits 0 on unknown keys. Usage: scripts/verify-systemd.sh
#
# verify needs the ExecStart binary to exist, so the units are checked from a
# temporary copy whose ExecStart runs /bin/true with the same arguments.
source "$(dirname "$0")/lib.sh"
cd "$PRESSROOM_ROOT"

command -v systemd-analyze >/dev/null || ensure_apt systemd

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp systemd/pressroom@.service systemd/pressroom.target systemd/pressroom-sweep.service systemd/pressroom-sweep.timer \
    systemd/pressroom-reconcile.service systemd/pressroom-reconcile.timer "$work/"
sed -i 's|^ExecStart=/usr/local/bin/pressroom |ExecStart=/bin/true |' "$work/pressroom@.service" "$work/pressroom-sweep.service" "$work/pressroom-reconcile.service"
grep -q '^ExecStart=/bin/true run --config ' "$work/pressroom@.service" \
    || { log "ExecStart in systemd/pressroom@.service is not '/usr/local/bin/pressroom run --config ...'"; exit 1; }
grep -q '^ExecStart=/bin/true sweep --config ' "$work/pressroom-sweep.service" \
    || { log "ExecStart in systemd/pressroom-sweep.service is not '/usr/local/bin/pressroom sweep --config ...'"; exit 1; }
grep -q '^Unit=pressroom-sweep.service' "$work/pressroom-sweep.timer" \
    || { log "systemd/pressroom-sweep.timer does not start pressroom-sweep.service"; exit 1; }
grep -q '^OnCalendar=' "$work/pressroom-sweep.timer" || { log "systemd/pressroom-sweep.timer has no OnCalendar="; exit 1; }
grep -q '^ExecStart=/bin/true enqueue reconcile --config ' "$work/pressroom-reconcile.service" \
    || { log "ExecStart in systemd/pressroom-reconcile.service is not '/usr/local/bin/pressroom enqueue reconcile --config ...'"; exit 1; }
grep -q '^Unit=pressroom-reconcile.service' "$work/pressroom-reconcile.timer" \
    || { log "systemd/pressroom-reconcile.timer does not start pressroom-reconcile.service"; exit 1; }

status=0
for unit in "pressroom@1.service" "pressroom.target" "pressroom-sweep.service" "pressroom-sweep.timer" "pressroom-reconcile.service" "pressroom-reconcile.timer"; do
    if ! output="$(cd "$work" && SYSTEMD_LOG_COLOR=0 systemd-analyze verify --man=no "$work/$unit" 2>&1)"; then
        log "systemd-analyze verify $unit failed:"; printf '%s\n' "$output" >&2; status=1
    elif [ -n "$output" ]; then
        log "systemd-analyze verify $unit warned:"; printf '%s\n' "$output" >&2; status=1
    else
        log "verify $unit: ok"
    fi
done

# Exposure score (0 = locked down, 10 = unprotected); fail above 3.
if systemd-analyze security --help 2>/dev/null | grep -q -- '--offline'; then
    if ! score="$(systemd-analyze security --offline=yes --threshold=30 --no-pager "$work/pressroom@1.service" 2>&1 | grep 'Overall exposure level')"; then
        log "pressroom@.service hardening regressed:"; systemd-analyze security --offline=yes --no-pager "$work/pressroom@1.service" >&2 || true
        status=1
    else
        log "${score#→ }"
    fi
    if ! score="$(systemd-analyze security --offline=yes --threshold=30 --no-pager "$work/pressroom-sweep.service" 2>&1 | grep 'Overall exposure level')"; then
        log "pressroom-sweep.service hardening regressed:"; systemd-analyze security --offline=yes --no-pager "$work/pressroom-sweep.service" >&2 || true
        status=1
    else
        log "sweep: ${score#→ }"
    fi
fi
exit $status
