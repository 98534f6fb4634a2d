#!/usr/bin/env bash
# Starts a throwaway local Redis Cluster for benchmarks (bench/queue with
# BENCH_CLUSTER=1): PRESSROOM_TEST_CLUSTER_MASTERS masters (default 3) with
# PRESSROOM_TEST_CLUSTER_REPLICAS replicas each (default 0) on consecutive
# ports from PRESSROOM_TEST_CLUSTER_PORT (default 6420; bus ports + 10000),
# and prints the seeds. The tests start clusters of their own
# (Tests/PressroomDaemonTests/HashSlotTests.swift, ClusterRedis), so this
# lives outside scripts/services, whose every script the test run starts.
# Usage: redis-cluster.sh start|stop
source "$(dirname "$0")/../lib.sh"
BASE="${PRESSROOM_TEST_CLUSTER_PORT:-6420}"
MASTERS="${PRESSROOM_TEST_CLUSTER_MASTERS:-3}"
REPLICAS="${PRESSROOM_TEST_CLUSTER_REPLICAS:-0}"
COUNT=$((MASTERS * (1 + REPLICAS)))
PORTS=()
for ((i = 0; i < COUNT; i++)); do PORTS+=($((BASE + i))); done
node_dir() { echo "$PRESSROOM_VAR/redis-cluster/$1"; }
pidfile() { echo "$PRESSROOM_VAR/run/redis-cluster-$1.pid"; }
case "${1:-start}" in
start)
    ensure_apt redis-server redis-tools
    started=0
    for port in "${PORTS[@]}"; do
        port_open 127.0.0.1 "$port" && continue
        mkdir -p "$(node_dir "$port")"
        redis-server --bind 127.0.0.1 --port "$port" --dir "$(node_dir "$port")" --save "" --appendonly no \
            --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 5000 \
            --maxmemory-policy noeviction --daemonize yes --pidfile "$(pidfile "$port")" \
            --logfile "$PRESSROOM_VAR/log/redis-cluster-$port.log" >/dev/null
        wait_for_port 127.0.0.1 "$port"
        started=1
    done
    if ! redis-cli -p "$BASE" cluster info | grep -q cluster_state:ok; then
        redis-cli --cluster create $(printf '127.0.0.1:%s ' "${PORTS[@]}") --cluster-replicas "$REPLICAS" --cluster-yes >"$PRESSROOM_VAR/log/redis-cluster-create.log" 2>&1 \
            || { cat "$PRESSROOM_VAR/log/redis-cluster-create.log" >&2; exit 1; }
        for _ in $(seq 1 200); do
            ok=1
            for port in "${PORTS[@]}"; do redis-cli -p "$port" cluster info | grep -q cluster_state:ok || ok=0; done
            [ "$ok" = 1 ] && break
            sleep 0.1
        done
    fi
    [ "$started" = 1 ] && log "redis cluster of $MASTERS masters ($REPLICAS replicas each) on 127.0.0.1:${PORTS[0]}-${PORTS[-1]}"
    echo "export PRESSROOM_TEST_CLUSTER_SEEDS=$(printf '127.0.0.1:%s,' "${PORTS[@]:0:2}" | sed 's/,$//')"
    ;;
stop)
    for port in "${PORTS[@]}"; do
        [ -f "$(pidfile "$port")" ] && kill "$(cat "$(pidfile "$port")")" 2>/dev/null || true
        rm -f "$(pidfile "$port")"
    done
    # The nodes' cluster state goes too: the next start forms a fresh cluster.
    sleep 0.5
    rm -rf "$PRESSROOM_VAR/redis-cluster"
    ;;
esac
