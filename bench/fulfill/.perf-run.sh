#!/usr/bin/env bash
# bench/fulfill/run: print tickets/s through ONE pressroom worker process
# (vendor maxInFlight 32, fulfill lane 64) against the test vendor
# with 50 ms simulated latency, beside a reference loop of plain libcurl
# requests (PressroomHTTP, no Redis) making the same create calls at the same
# concurrency, in one invocation. Masters live in ministack (presigned URLs the
# vendor downloads and checks). Asserts zero duplicate vendor orders. Last line:
# `pressroom/raw-http ticket ratio: R`.
# Env: BENCH_TICKETS (default 3000), BENCH_LATENCY_MS (default 50), BENCH_LANE
# (the worker's fulfill lane concurrency, default 64; vendor maxInFlight stays 32).
source "$(dirname "$0")/../../scripts/lib.sh"
cd "$PRESSROOM_ROOT"
ensure_apt "${PRESSROOM_BUILD_PACKAGES[@]}" python3 python3-venv curl
TICKETS="${BENCH_TICKETS:-3000}"
LATENCY="${BENCH_LATENCY_MS:-50}"
bench_services ministack
for product in pressroom pressroom-test-vendor FulfillBench; do swift build -c release --product "$product" >&2; done
BIN="$(swift build -c release --show-bin-path)"

work="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; stop_bench_services; }
trap cleanup EXIT

REDIS_PORT="$(free_port)"; VENDOR_PORT="$(free_port)"; ADMIN_PORT="$(free_port)"
redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no --dir "$work" >"$work/redis.log" 2>&1 &
pids+=($!)
"$BIN/pressroom-test-vendor" --port "$VENDOR_PORT" --log-level warning >"$work/vendor.log" 2>&1 &
pids+=($!)
wait_for_port 127.0.0.1 "$REDIS_PORT"; wait_for_port 127.0.0.1 "$VENDOR_PORT"
VENDOR="http://127.0.0.1:$VENDOR_PORT"
for account in bench-pressroom bench-raw; do
    curl -sf -X POST "$VENDOR/_control/accounts" -H 'Content-Type: application/json' \
        -d "{\"id\":\"$account\",\"apiKey\":\"key-$account\",\"bearerToken\":\"tok-$account\",\"clientId\":\"client-$account\",\"clientSecret\":\"secret-$account\",\"latencyMs\":$LATENCY}" >/dev/null
done

cat >"$work/vendors.yaml" <<YAML
vendors:
  bench-lab:
    adapter: idempotency-key
    baseURL: $VENDOR/generic
    auth: { kind: api-key, apiKey: key-bench-pressroom }
    products: { print-4x6: PHOTO-4X6 }
    countries: { DE: { priority: 1 } }
    maxInFlight: 32
    timeouts: { connect: 5s, request: 30s }
YAML
export PRESSROOM_REDIS_URL="redis://127.0.0.1:$REDIS_PORT" PRESSROOM_REDIS_NAMESPACE=bench
export PRESSROOM_STORAGE_BACKEND=s3 PRESSROOM_STORAGE_S3_ENDPOINT="$PRESSROOM_TEST_MINISTACK_ENDPOINT" PRESSROOM_STORAGE_S3_REGION=us-east-1
export PRESSROOM_STORAGE_S3_BUCKET="$PRESSROOM_TEST_MINISTACK_BUCKET" PRESSROOM_STORAGE_S3_ADDRESSING_STYLE=path
export PRESSROOM_STORAGE_S3_ACCESS_KEY_ID="$PRESSROOM_TEST_MINISTACK_ACCESS_KEY" PRESSROOM_STORAGE_S3_SECRET_ACCESS_KEY="$PRESSROOM_TEST_MINISTACK_SECRET_KEY"
# Vendor calls are capped at 32 in flight (maxInFlight, the reference's
# concurrency); the lane holds twice as many jobs, so the next jobs' master
# HEADs and Redis steps overlap the vendor calls instead of queueing behind
# them (the setting docs/fulfillment.md recommends). Every fulfil job HEADs its
# masters: the store gets as many connections as the lane has jobs.
LANE="${BENCH_LANE:-64}"
export PRESSROOM_FULFILLMENT_VENDORS="$work/vendors.yaml" PRESSROOM_QUEUES_FULFILL_CONCURRENCY="$LANE" PRESSROOM_STORAGE_S3_CONNECTIONS="${BENCH_S3_CONNECTIONS:-$LANE}"
export PRESSROOM_ADMIN_PORT="$ADMIN_PORT" PRESSROOM_LOG_LEVEL=warning

"$BIN/pressroom" run --consumer bench-worker >"$work/worker.log" 2>&1 &
WORKER_PID=$!
pids+=($!)
ready=0
for _ in $(seq 150); do curl -sf "http://127.0.0.1:$ADMIN_PORT/readyz" >/dev/null && { ready=1; break; }; sleep 0.2; done
[ "$ready" = 1 ] || { log "the worker did not become ready:"; tail -20 "$work/worker.log" >&2; exit 1; }

dumpctx() { for t in /proc/$WORKER_PID/task/*; do echo "$(cat $t/comm) $(awk '/voluntary_ctxt_switches/ {printf "%s ", $2}' $t/status) $(awk '{print $14+$15}' $t/stat)"; done | sort | awk '{n[$1]+=1; v[$1]+=$2; iv[$1]+=$3; c[$1]+=$4} END {for (k in n) printf "%s x%d vol=%d invol=%d ticks=%d\n", k, n[k], v[k], iv[k], c[k]}'; }
dumpctx > /tmp/ctx-before.txt
MINISTACK_PID="$(cat "$PRESSROOM_VAR/run/ministack-test-$PRESSROOM_TEST_MINISTACK_PORT.pid" 2>/dev/null || true)"
BENCH_PROCESSES="worker=${pids[2]} vendor=${pids[1]} redis=${pids[0]}${MINISTACK_PID:+ ministack=$MINISTACK_PID}" \
BENCH_TICKETS="$TICKETS" BENCH_LATENCY_MS="$LATENCY" BENCH_LANE="$LANE" BENCH_VENDOR_URL="$VENDOR" BENCH_REDIS_URL="$PRESSROOM_REDIS_URL" BENCH_NAMESPACE=bench \
BENCH_PRESSROOM_ACCOUNT=bench-pressroom BENCH_RAW_ACCOUNT=bench-raw BENCH_RAW_API_KEY=key-bench-raw \
BENCH_S3_ENDPOINT="$PRESSROOM_TEST_MINISTACK_ENDPOINT" BENCH_S3_BUCKET="$PRESSROOM_TEST_MINISTACK_BUCKET" \
BENCH_S3_ACCESS_KEY="$PRESSROOM_TEST_MINISTACK_ACCESS_KEY" BENCH_S3_SECRET_KEY="$PRESSROOM_TEST_MINISTACK_SECRET_KEY" \
    "$BIN/FulfillBench" >"$work/bench.out" || { cat "$work/bench.out"; echo "worker log:" >&2; tail -20 "$work/worker.log" >&2; exit 1; }
dumpctx > /tmp/ctx-after.txt
# Where a ticket's time goes inside the worker (means from its /metrics), printed before the ratio line.
curl -sf "http://127.0.0.1:$ADMIN_PORT/metrics" >"$work/metrics.txt" || true
mean() { awk -v m="$1" '$1 ~ "^"m"_sum" {s+=$2} $1 ~ "^"m"_count" {c+=$2} END {if (c>0) printf "%.1f ms over %d", s/c*1000, c; else printf "n/a"}' "$work/metrics.txt"; }
head -n -1 "$work/bench.out"
echo "profile (pressroom worker means): job run $(mean 'pressroom_job_duration_seconds'), queue wait $(mean 'pressroom_job_queue_wait_seconds'), vendor permit wait $(mean 'pressroom_vendor_wait_seconds'), vendor request $(mean 'pressroom_vendor_request_seconds'), order-to-accepted $(mean 'pressroom_order_to_vendor_accepted_seconds')"
tail -n 1 "$work/bench.out"
