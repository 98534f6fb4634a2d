"""bench/orders driver: feeds one running pressroom worker over plain XADD/XREAD
(the way a shop does, see docs/integration.md) and prints the figures.

Phases, in one run:
  1. idle: uploads' derives one at a time, nothing else queued -> time to first preview;
  2. backlog: every 3-line order enqueued at once, and while their renders
     drain, uploads' derives at the same pace as in phase 1 -> time to first
     preview under a master backlog, and each order's time to vendor accepted.

Arguments: redis url, namespace, file with the source keys (one a line:
first the idle uploads, then the backlog uploads, then 3 per order).
"""
import json
import statistics
import sys
import time

import redis

url, ns, keys_file, n_idle, n_busy, n_orders, pace = sys.argv[1], sys.argv[2], sys.argv[3], *map(float, sys.argv[4:8])
n_idle, n_busy, n_orders = int(n_idle), int(n_busy), int(n_orders)
r = redis.Redis.from_url(url, decode_responses=True)
sources = [line.strip() for line in open(keys_file) if line.strip()]
idle_sources, busy_sources = sources[:n_idle], sources[n_idle:n_idle + n_busy]
order_sources = sources[n_idle + n_busy:]
assert len(order_sources) >= 3 * n_orders, "not enough order sources"


def key(queue, name):
    return "{%s:%s}:%s" % (ns, queue, name)


def now_ms():
    return int(time.time() * 1000)


def last_id(stream):
    newest = r.xrevrange(stream, count=1)
    return newest[0][0] if newest else "0-0"


def enqueue(queue, job_id, job_type, payload):
    at = now_ms()
    r.xadd(key(queue, "jobs"), {"v": "1", "id": job_id, "type": job_type, "payload": json.dumps(payload), "enqueued_at": str(at)})
    return at


class Follower:
    """Reads one events stream from a point on; remembers what it saw by id."""

    def __init__(self, stream):
        self.stream, self.cursor, self.seen = stream, last_id(stream), {}

    def poll(self, block=200):
        for _s, entries in r.xread({self.stream: self.cursor}, count=500, block=block) or []:
            for entry_id, event in entries:
                self.cursor = entry_id
                self.seen.setdefault((event.get("id"), event.get("event")), event)

    def wait(self, ids, event_name, timeout, fail=("dead_lettered", "order.failed")):
        deadline = time.time() + timeout
        while time.time() < deadline:
            self.poll()
            for i in ids:
                for bad in fail:
                    if (i, bad) in self.seen:
                        raise SystemExit("%s: %s %s" % (i, bad, self.seen[(i, bad)].get("error") or self.seen[(i, bad)].get("reason")))
            if all((i, event_name) in self.seen for i in ids):
                return
        missing = [i for i in ids if (i, event_name) not in self.seen]
        raise SystemExit("timed out waiting for %s of %d ids (first: %s)" % (event_name, len(missing), missing[:3]))


def pct(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(p / 100 * len(ordered) + 0.5)) - 1))]


def preview_latencies(derive_events, uploads, tag, spacing, during=None):
    """Enqueues each upload's derive `spacing` s apart; ms from XADD to its `succeeded` event."""
    enqueued = {}
    for n, source in enumerate(uploads):
        job = "%s-%d" % (tag, n)
        enqueued[job] = enqueue("derive", job, "derive", {"source": source})
        end = time.time() + spacing
        while time.time() < end:
            derive_events.poll(block=50)
            if during:
                during()
    derive_events.wait(list(enqueued), "succeeded", 600)
    return [int(derive_events.seen[(j, "succeeded")]["at"]) - enqueued[j] for j in enqueued]


derive_events = Follower(key("derive", "events"))
order_events = Follower(key("fulfill", "events"))

# Setup (untimed): the order lines' uploads were derived when the customers uploaded them.
pre = ["pre-%d" % n for n in range(len(order_sources))]
for job, source in zip(pre, order_sources):
    enqueue("derive", job, "derive", {"source": source})
derive_events.wait(pre, "succeeded", 900)

# Phase 1: idle.
idle = preview_latencies(derive_events, idle_sources, "idle", pace)

# Phase 2: the order backlog, and uploads arriving while it drains.
products = ["print-4x6", "print-5x7", "poster-a2"]
recipient = {"name": "Bench Customer", "email": "bench@example.org",
             "address": {"lines": ["1 Bench Road"], "city": "Berlin", "postalCode": "10115", "countryCode": "DE"}}
order_at = {}
for n in range(n_orders):
    oid = "bench-%d" % n
    lines = [{"source": order_sources[3 * n + i], "product": products[i], "quantity": 1} for i in range(3)]
    order_at[oid] = enqueue("fulfill", "{%s}:order" % oid, "order",
                            {"orderId": oid, "reference": "#B%d" % n, "shipping": "standard", "country": "DE",
                             "recipient": recipient, "lines": lines})
first_order = min(order_at.values())
busy = preview_latencies(derive_events, busy_sources, "busy", pace, during=lambda: order_events.poll(block=None))
order_events.wait(list(order_at), "order.accepted", 1800)
accepted = {oid: int(order_events.seen[(oid, "order.accepted")]["at"]) for oid in order_at}
span_s = (max(accepted.values()) - first_order) / 1000
to_accepted = [(accepted[o] - order_at[o]) / 1000 for o in order_at]

print("orders: %d 3-line orders (12 MP sources, %s) through 1 worker process: %.1f orders/min end to end (%.1f s); "
      "order enqueued -> vendor accepted p50 %.1f s, p95 %.1f s"
      % (n_orders, "/".join(products), n_orders / span_s * 60, span_s, pct(to_accepted, 50), pct(to_accepted, 95)))
print("preview idle          : %2d uploads, time to first preview p50 %5d ms, p95 %5d ms" % (len(idle), pct(idle, 50), pct(idle, 95)))
print("preview under backlog : %2d uploads, time to first preview p50 %5d ms, p95 %5d ms (enqueued every %.1f s while %d renders drain)"
      % (len(busy), pct(busy, 50), pct(busy, 95), pace, 3 * n_orders))
ratio = pct(busy, 95) / max(1, pct(idle, 95))
print("preview p95 under backlog / idle ratio: %.2f" % ratio)
