# Shared helpers for Pressroom's scripts. Source it; do not run it.
set -euo pipefail

PRESSROOM_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PRESSROOM_VAR="${PRESSROOM_VAR:-$PRESSROOM_ROOT/var}"
mkdir -p "$PRESSROOM_VAR/run" "$PRESSROOM_VAR/log"

log() { printf '==> %s\n' "$*" >&2; }

# Installs the Debian packages that are not installed yet (one apt run at most).
ensure_apt() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$PRESSROOM_VAR/log/apt.log" 2>&1 \
        || { cat "$PRESSROOM_VAR/log/apt.log" >&2; return 1; }
}

# The packages Pressroom builds and runs with.
# redis-sentinel: the Sentinel failover test runs three sentinels of its own.
# fonts-dejavu-core: the preview watermark is rendered with DejaVu Sans (libvips text via fontconfig).
PRESSROOM_BUILD_PACKAGES=(pkg-config libhiredis-dev libvips-dev liblcms2-dev libcurl4-openssl-dev zlib1g-dev redis-server redis-sentinel redis-tools fonts-dejavu-core)

# Waits until TCP host:port accepts connections (seconds as $3, default 20).
wait_for_port() {
    local host=$1 port=$2 timeout=${3:-20} i=0
    while ! (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; do
        i=$((i + 1))
        [ $i -gt $((timeout * 10)) ] && { log "timed out waiting for $host:$port"; return 1; }
        sleep 0.1
    done
}

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# A TCP port the kernel just handed out on loopback (closed again for a server to bind).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# For benches: starts each named service (scripts/services/NAME.sh) on a port
# of its own and exports what it prints, so a bench never borrows a test run's
# servers nor leaves its own behind (a leftover took a test run's port): call
# stop_bench_services on exit. A port already set in the environment is kept.
BENCH_SERVICES=()
bench_services() {
    local svc var exports
    for svc in "$@"; do
        var="PRESSROOM_TEST_$(printf '%s' "$svc" | tr '[:lower:]' '[:upper:]')_PORT"
        [ -n "${!var:-}" ] || export "$var=$(free_port)"
        exports="$(bash "$PRESSROOM_ROOT/scripts/services/$svc.sh" start)" || { log "$svc failed to start"; return 1; }
        eval "$exports"
        BENCH_SERVICES+=("$svc:$var=${!var}")
    done
}
stop_bench_services() {
    local entry svc assignment
    for entry in "${BENCH_SERVICES[@]}"; do
        svc="${entry%%:*}" assignment="${entry#*:}"
        env "$assignment" bash "$PRESSROOM_ROOT/scripts/services/$svc.sh" stop >/dev/null 2>&1 || true
    done
    BENCH_SERVICES=()
}
