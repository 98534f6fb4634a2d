"""bench/load driver: feeds one running pressroom worker over plain XADD/XREAD
(docs/integration.md) and reads its memory from /proc/<pid>/status.

Usage:
  driver.py URL NS KEYS_FILE PID one derive|render POLICY
      one job alone; prints `<kind> <VmHWM kB> <duration ms> <VmRSS kB before it>`.
  driver.py URL NS KEYS_FILE PID load JOBS POLICY DERIVE_LANE RENDER_LANE
      keeps both lanes full until JOBS jobs have completed; prints the figures
      (kB values are VmRSS/VmHWM of the worker).
"""
import json
import statistics
import sys
import time

import redis

url, ns, keys_file, pid, mode = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
r = redis.Redis.from_url(url, decode_responses=True)
sources = [line.strip() for line in open(keys_file) if line.strip()]


def key(queue, name):
    return "{%s:%s}:%s" % (ns, queue, name)


def status_kb(field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise SystemExit("no %s in /proc/%d/status (did the worker exit?)" % (field, pid))


def enqueue(kind, job_id, payload):
    r.xadd(key(kind, "jobs"), {"v": "1", "id": job_id, "type": kind, "payload": json.dumps(payload),
                               "enqueued_at": str(int(time.time() * 1000))})


def payload(kind, n, policy):
    source = sources[n % len(sources)]
    return {"source": source} if kind == "derive" else {"source": source, "policy": policy}


class Events:
    """Follows both events streams; counts each job id's first `succeeded`, fails on a dead letter."""

    def __init__(self):
        self.cursors = {key(q, "events"): "$" for q in ("derive", "render")}
        for stream in self.cursors:
            newest = r.xrevrange(stream, count=1)
            self.cursors[stream] = newest[0][0] if newest else "0-0"
        self.done, self.retries = {}, 0

    def poll(self, block):
        for stream, entries in r.xread(self.cursors, count=1000, block=block) or []:
            for entry_id, e in entries:
                self.cursors[stream] = entry_id
                if e.get("event") == "succeeded":
                    self.done.setdefault(e.get("id"), int(e.get("duration_ms") or 0))
                elif e.get("event") == "retrying":
                    self.retries += 1
                elif e.get("event") in ("dead_lettered", "infected"):
                    raise SystemExit("%s: %s %s" % (e.get("id"), e.get("event"), e.get("error")))


def waiting(kind):
    """Entries of the queue's stream not yet delivered to the worker (XINFO GROUPS lag)."""
    groups = r.xinfo_groups(key(kind, "jobs"))
    return sum(int(g.get("lag") or 0) for g in groups) if groups else 0


events = Events()

if mode == "one":
    kind, policy = sys.argv[6], sys.argv[7]
    idle = status_kb("VmRSS")
    enqueue(kind, "ref-%s" % kind, payload(kind, 0, policy))
    deadline = time.time() + 600
    while "ref-%s" % kind not in events.done:
        if time.time() > deadline:
            raise SystemExit("timed out waiting for the %s job" % kind)
        events.poll(block=200)
    print(kind, status_kb("VmHWM"), events.done["ref-%s" % kind], idle)
    sys.exit(0)

jobs, policy, lanes = int(sys.argv[6]), sys.argv[7], {"derive": int(sys.argv[8]), "render": int(sys.argv[9])}
# Outstanding (enqueued, not yet succeeded) per kind: the lane running plus at
# least as many again waiting, with slack for the time between top-ups.
target = {k: 3 * n for k, n in lanes.items()}
enqueued = {"derive": 0, "render": 0}
ids = {"derive": [], "render": []}
samples = []          # (seconds since start, VmRSS kB)
full = [0, 0]         # [samples with both lanes' waiting >= lane size, samples taken while feeding]
start = time.time()
last_sample = 0.0
feeding_until = None  # when the last job was enqueued: the end of the "lanes full" window


def outstanding(kind):
    return enqueued[kind] - sum(1 for i in ids[kind] if i in events.done)


while len(events.done) < jobs:
    while sum(enqueued.values()) < jobs:
        short = [k for k in ("derive", "render") if outstanding(k) < target[k]]
        if not short:
            break
        kind = min(short, key=lambda k: outstanding(k) / target[k])
        n = enqueued[kind]
        job_id = "load-%s-%d" % (kind, n)
        enqueue(kind, job_id, payload(kind, n, policy))
        ids[kind].append(job_id)
        enqueued[kind] += 1
        if sum(enqueued.values()) == jobs:
            feeding_until = time.time() - start
    now = time.time()
    if now - last_sample >= 1.0:
        last_sample = now
        samples.append((now - start, status_kb("VmRSS")))
        if feeding_until is None and now - start > 5:  # the first few seconds are the lanes filling
            full[1] += 1
            if waiting("derive") >= lanes["derive"] and waiting("render") >= lanes["render"]:
                full[0] += 1
    if now - start > 7200:
        raise SystemExit("timed out after 2 h with %d of %d jobs done" % (len(events.done), jobs))
    events.poll(block=200)

wall = time.time() - start
hwm = status_kb("VmHWM")
samples.append((wall, status_kb("VmRSS")))
window = feeding_until or wall
fed = [rss for t, rss in samples if t <= window] or [rss for _, rss in samples]
tenth = max(1, len(fed) // 10)
first, last = statistics.median(fed[:tenth]), statistics.median(fed[-tenth:])
done = {k: sum(1 for i in ids[k] if i in events.done) for k in ids}
mb = lambda kb: kb / 1024
print("load: %d jobs (derive %d, render %s %d) in %.0f s (%.1f jobs/min), %d retries; both lanes had a backlog "
      "(derive >= %d, render >= %d waiting) in %d of %d 1-s samples while feeding"
      % (len(events.done), done["derive"], policy, done["render"], wall, len(events.done) / wall * 60, events.retries,
         lanes["derive"], lanes["render"], full[0], full[1]))
print("load rss: peak (VmHWM) %.0f MB; VmRSS sampled every 1 s while feeding (%d samples, %.0f s): "
      "first 10%% median %.0f MB, last 10%% median %.0f MB, max %.0f MB"
      % (mb(hwm), len(fed), window, mb(first), mb(last), mb(max(fed))))
tenths = [statistics.median(fed[i * len(fed) // 10:max(i * len(fed) // 10 + 1, (i + 1) * len(fed) // 10)]) for i in range(10)]
print("load rss by tenth of the feeding window (median VmRSS, MB): %s" % " ".join("%.0f" % mb(v) for v in tenths))
print("RESULT %d %.4f" % (hwm, last / first))
