import Foundation
import Logging
import Metrics
import PressroomSupport
import Synchronization

/// One queue's worker loop in one process: replays this consumer's own pending
/// entries, then reads new ones in batches no larger than its free slots, and
/// runs each through its handler. Lanes share nothing but the command client,
/// so a flood on one queue never starves another.
final class QueueLane: Sendable {
    struct InFlight: Sendable {
        let entryID: String
        let jobID: String
    }

    let options: QueueOptions
    let keys: QueueKeys
    private let registry: JobRegistry
    private let commands: RedisClient
    private let fetcher: RedisClient
    private let consumer: String
    private let logger: Logger
    private let stopSignal: StopSignal
    private let slots: LaneSlots
    private let inFlight = Mutex<[String: InFlight]>([:])
    private let inFlightGauge: Gauge
    private let cpu: CPUTimeAttributor

    init(options: QueueOptions, namespace: String, registry: JobRegistry, commands: RedisClient, fetcher: RedisClient, consumer: String, logger: Logger, stopSignal: StopSignal, cpu: CPUTimeAttributor) {
        self.cpu = cpu
        self.options = options
        self.keys = QueueKeys(namespace: namespace, queue: options.name)
        self.registry = registry
        self.commands = commands
        self.fetcher = fetcher
        self.consumer = consumer
        var logger = logger
        logger[metadataKey: "queue"] = "\(options.name)"
        self.logger = logger
        self.stopSignal = stopSignal
        self.slots = LaneSlots(capacity: options.concurrency)
        self.inFlightGauge = Gauge(label: "pressroom_jobs_in_flight", dimensions: [("queue", options.name)])
    }

    var inFlightCount: Int { slots.inUse }

    /// Runs until the stop signal, then drains: in-flight jobs get until
    /// `drainDeadline` to finish; after that they are cancelled and their
    /// entries stay pending for another consumer (never marked failed).
    func run(drainTimeout: Duration) async {
        await withDiscardingTaskGroup { group in
            var cursor = "0"  // own pending entries first, then ">"
            var backoff = Backoff()
            var reclaimCursor = "0-0"
            var nextReclaim = ContinuousClock.now
            while !stopSignal.isStopped {
                if cursor == ">" && slots.free > 0 && ContinuousClock.now >= nextReclaim {
                    // Take over entries of consumers that died mid-job, in free slots only.
                    if let (next, reclaimed) = await reclaim(cursor: reclaimCursor, count: slots.free) {
                        reclaimCursor = next
                        await start(reclaimed, in: &group)
                        // Keep scanning promptly while there is a backlog of orphans.
                        nextReclaim = next == "0-0" ? ContinuousClock.now + reclaimInterval : ContinuousClock.now
                    } else {
                        nextReclaim = ContinuousClock.now + reclaimInterval
                    }
                    continue
                }
                if slots.free == 0 {
                    await slots.waitForFree(timeout: .milliseconds(200))
                    continue
                }
                // Read in batches: with a few slots free and jobs still running,
                // wait a moment for more, so one XREADGROUP serves many jobs.
                if slots.free < refillThreshold && slots.inUse > 0 && cursor == ">" {
                    await slots.waitForFree(atLeast: refillThreshold, timeout: .milliseconds(2))
                }
                let count = min(slots.free, options.batchSize)
                let entries: [StreamEntry]
                do {
                    entries = try await read(cursor: cursor, count: count)
                    backoff.reset()
                } catch {
                    await handleReadError(error, backoff: &backoff)
                    continue
                }
                if cursor != ">" {
                    if entries.isEmpty {
                        cursor = ">"
                        continue
                    }
                    cursor = entries.last!.id
                    let ready = await screenReplayed(entries)
                    await start(ready, in: &group)
                } else {
                    await start(entries.map { ($0, 1) }, in: &group)
                }
            }
            let deadline = ContinuousClock.now + drainTimeout
            if slots.inUse > 0 {
                logger.info("draining", metadata: ["in_flight": "\(slots.inUse)", "timeout": "\(drainTimeout)"])
            }
            while slots.inUse > 0 && ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(20))
            }
            if slots.inUse > 0 {
                logger.warning("drain timeout: leaving unfinished jobs pending for another consumer", metadata: ["in_flight": "\(slots.inUse)"])
                group.cancelAll()
            }
        }
    }

    /// Entries whose handler is running, for the idle-time refresher.
    func inFlightEntries() -> [InFlight] {
        inFlight.withLock { Array($0.values) }
    }

    private func start(_ entries: [(StreamEntry, Int)], in group: inout DiscardingTaskGroup) async {
        slots.take(entries.count)
        inFlightGauge.record(slots.inUse)
        let parsed = entries.map { WireFormat.parse(entryID: $0.0.id, fields: $0.0.fields ?? [], queue: options.name) }
        let verdicts = await beginBatch(parsed.compactMap { try? $0.get() })
        for ((entry, _), job) in zip(entries, parsed) {
            let verdict = (try? job.get()).flatMap { verdicts[$0.entryID] }
            group.addTask {
                await self.process(entry, parsed: job, verdict: verdict)
                self.slots.release()
                self.inFlightGauge.record(self.slots.inUse)
            }
        }
    }

    /// Idempotency for a whole batch in one script call: which jobs already
    /// finished ("done"), which run elsewhere ("busy"), and which to run
    /// ("run", lease taken). Empty when Redis is unreachable; each job then
    /// asks on its own, with retries.
    private func beginBatch(_ jobs: [Job]) async -> [String: String] {
        var verdicts: [String: String] = [:]
        var seen = Set(inFlight.withLock { $0.values.map { $0.jobID } })
        var ask: [Job] = []
        for job in jobs where registry.entry(for: job.type)?.options.queue == options.name {
            // The same id twice in this process (a duplicate enqueue): the first one runs.
            if seen.insert(job.id).inserted { ask.append(job) } else { verdicts[job.entryID] = "busy" }
        }
        guard !ask.isEmpty else { return verdicts }
        do {
            let reply = try await QueueScripts.beginBatch.run(
                on: commands, keys: ask.flatMap { [keys.done($0.id), keys.lease($0.id)] },
                args: [consumer, String(options.claimMinIdle.milliseconds)])
            for (job, verdict) in zip(ask, reply.array ?? []) {
                verdicts[job.entryID] = verdict.string
            }
        } catch {
            // Fall back to per-job begin (with retries) in process().
        }
        return verdicts
    }

    private var refillThreshold: Int { max(1, min(options.batchSize, options.concurrency) / 4) }

    /// How often to look for orphaned entries: often enough that a dead
    /// consumer's jobs restart soon after they become claimable.
    private var reclaimInterval: Duration {
        min(max(options.claimMinIdle / 4, .milliseconds(100)), .seconds(5))
    }

    private func reclaim(cursor: String, count: Int) async -> (String, [(StreamEntry, Int)])? {
        do {
            let reply = try await QueueScripts.reclaim.run(
                on: commands,
                keys: [keys.stream, keys.dead, keys.events],
                args: [QueueKeys.group, consumer, String(options.claimMinIdle.milliseconds), cursor, String(count),
                       String(options.maxDeliveries), String(Self.nowMs()), String(options.eventsMaxLength)])
            guard let parts = reply.array, parts.count >= 4 else { return nil }
            let next = parts[0].string ?? "0-0"
            var entries: [(StreamEntry, Int)] = []
            for item in parts[1].array ?? [] {
                guard let triple = item.array, triple.count >= 3, let id = triple[0].string else { continue }
                entries.append((StreamEntry(id: id, fields: triple[1].fieldPairs), Int(triple[2].int ?? 1)))
            }
            let poisoned = parts[2].int ?? 0, trimmed = parts[3].int ?? 0
            if poisoned > 0 || trimmed > 0 {
                logger.warning("dead-lettered orphaned entries", metadata: ["poison": "\(poisoned)", "trimmed": "\(trimmed)"])
                if poisoned > 0 {
                    Counter(label: "pressroom_jobs_dead_lettered_total", dimensions: [("queue", options.name), ("type", ""), ("reason", "poison")]).increment(by: Int(poisoned))
                }
                if trimmed > 0 {
                    Counter(label: "pressroom_jobs_dead_lettered_total", dimensions: [("queue", options.name), ("type", ""), ("reason", "trimmed")]).increment(by: Int(trimmed))
                }
            }
            if !entries.isEmpty {
                logger.notice("took over entries of a dead consumer", metadata: ["count": "\(entries.count)"])
            }
            return (next, entries)
        } catch {
            if let redisError = error as? RedisError, redisError.kind == .server {
                logger.error("reclaim failed", metadata: ["error": "\(redisError.message)"])
            }
            return nil
        }
    }

    private func read(cursor: String, count: Int) async throws -> [StreamEntry] {
        var args = ["XREADGROUP", "GROUP", QueueKeys.group, consumer, "COUNT", String(count)]
        if cursor == ">" { args += ["BLOCK", String(options.block.milliseconds)] }
        args += ["STREAMS", keys.stream, cursor]
        let reply = try await fetcher.send(args)
        if case .error(let message) = reply {
            throw RedisError.server(message)
        }
        return StreamEntry.parseReadReply(reply)
    }

    private func handleReadError(_ error: Error, backoff: inout Backoff) async {
        if let redisError = error as? RedisError, redisError.serverCode == "NOGROUP" {
            // Redis lost its data (restart without persistence, FLUSHALL): recreate and go on.
            logger.warning("consumer group missing; recreating it", metadata: ["stream": "\(keys.stream)"])
            try? await QueueAdmin.ensureGroup(keys: keys, client: commands)
        } else if let redisError = error as? RedisError, redisError.kind == .server {
            logger.error("XREADGROUP failed", metadata: ["error": "\(redisError.message)"])
        }
        await stopSignal.sleep(backoff.next())
    }

    /// Own pending entries after a restart: dead-letter the ones trimmed away
    /// or delivered too often (poison), return the rest with their counts.
    private func screenReplayed(_ entries: [StreamEntry]) async -> [(StreamEntry, Int)] {
        var deliveries: [String: Int] = [:]
        if let first = entries.first?.id, let last = entries.last?.id,
           let reply = try? await commands.call(["XPENDING", keys.stream, QueueKeys.group, first, last, String(entries.count), consumer]) {
            for item in reply.array ?? [] {
                if let fields = item.array, fields.count >= 4, let id = fields[0].string, let count = fields[3].int {
                    deliveries[id] = Int(count)
                }
            }
        }
        var ready: [(StreamEntry, Int)] = []
        for entry in entries {
            let count = deliveries[entry.id] ?? 1
            if entry.fields == nil {
                await deadLetter(entryID: entry.id, fields: [], job: nil, errorClass: .permanent,
                                 reason: "trimmed: the entry was deleted from the stream before it was acknowledged", requireAck: false)
            } else if count > options.maxDeliveries {
                let job = try? WireFormat.parse(entryID: entry.id, fields: entry.fields ?? [], queue: options.name).get()
                await deadLetter(entryID: entry.id, fields: entry.fields ?? [], job: job, errorClass: .permanent,
                                 reason: "poison: delivered \(count) times without completing (limit \(options.maxDeliveries)); the worker died or hung on it every time")
            } else {
                ready.append((entry, count))
            }
        }
        if !ready.isEmpty {
            logger.info("replaying own pending entries", metadata: ["count": "\(ready.count)"])
        }
        return ready
    }

    // MARK: Running one entry

    private func process(_ entry: StreamEntry, parsed: Result<Job, WireFormat.Malformed>, verdict batchVerdict: String?) async {
        let fields = entry.fields ?? []
        let job: Job
        switch parsed {
        case .failure(let malformed):
            logger.warning("dead-lettering malformed entry", metadata: ["entry": "\(entry.id)", "reason": "\(malformed.reason)"])
            await deadLetter(entryID: entry.id, fields: fields, job: nil, errorClass: .permanent, reason: malformed.reason)
            return
        case .success(let parsed):
            job = parsed
        }
        var logger = self.logger
        logger[metadataKey: "job_id"] = "\(job.id)"
        logger[metadataKey: "type"] = "\(job.type)"
        logger[metadataKey: "attempt"] = "\(job.attempt)"
        guard let registered = registry.entry(for: job.type), registered.options.queue == options.name else {
            let known = registry.types(on: options.name).joined(separator: ", ")
            await deadLetter(entryID: entry.id, fields: fields, job: job, errorClass: .permanent,
                             reason: "unknown job type '\(job.type)' on queue '\(options.name)' (this queue runs: \(known.isEmpty ? "nothing" : known))")
            return
        }

        // Idempotency: a finished id is acknowledged unrun; a running one is left to its owner.
        var verdict = batchVerdict ?? "run"
        if batchVerdict == nil {
            do {
                let begin = try await withRedisRetry {
                    try await QueueScripts.begin.run(on: self.commands, keys: [self.keys.done(job.id), self.keys.lease(job.id)],
                                                     args: [self.consumer, String(self.options.claimMinIdle.milliseconds)])
                }
                verdict = begin.array?.first?.string ?? "run"
            } catch {
                return  // stopped while Redis was down: the entry stays pending
            }
        }
        if verdict != "run" {
            logger.info(verdict == "done" ? "job already completed; acknowledging duplicate" : "job id running on another consumer; acknowledging duplicate",
                        metadata: ["entry": "\(entry.id)"])
            _ = try? await withRedisRetry { try await self.commands.call(["XACK", self.keys.stream, QueueKeys.group, entry.id]) }
            Counter(label: "pressroom_jobs_duplicates_total", dimensions: [("queue", options.name), ("type", job.type)]).increment()
            return
        }

        let dimensions = [("queue", options.name), ("type", job.type)]
        Counter(label: "pressroom_jobs_started_total", dimensions: dimensions).increment()
        if let enqueuedAt = job.enqueuedAt, job.attempt == 1 {
            Metrics.Timer(label: "pressroom_job_queue_wait_seconds", dimensions: [("queue", options.name)], preferredDisplayUnit: .seconds)
                .recordSeconds(max(0, Date().timeIntervalSince(enqueuedAt)))
        }
        inFlight.withLock { $0[entry.id] = InFlight(entryID: entry.id, jobID: job.id) }
        defer { inFlight.withLock { _ = $0.removeValue(forKey: entry.id) } }

        let started = ContinuousClock.now
        let cpuToken = cpu.begin(weight: options.cpuWeight)
        let context = JobContext(job: job, logger: logger, consumer: consumer)
        let outcome: Result<Data?, Error> = await run(registered, context: context)
        let elapsed = ContinuousClock.now - started
        Metrics.Timer(label: "pressroom_job_duration_seconds", dimensions: dimensions, preferredDisplayUnit: .seconds)
            .recordNanoseconds(elapsed.nanoseconds)
        // Process CPU while the job ran, shared among all jobs in flight by
        // weight: exact for a job running alone, an estimate otherwise (docs/metrics.md).
        FloatingPointCounter(label: "pressroom_job_cpu_seconds_total", dimensions: dimensions)
            .increment(by: cpu.end(cpuToken).seconds)

        switch outcome {
        case .success(let result):
            await complete(job: job, result: result, elapsed: elapsed, logger: logger)
        case .failure(let error):
            if Task.isCancelled || (error is CancellationError && stopSignal.isStopped) {
                logger.warning("job interrupted by shutdown; left pending for another consumer")
                return
            }
            let classified = error as? JobError ?? .transient(String(describing: error))
            Counter(label: "pressroom_jobs_failed_total", dimensions: dimensions + [("class", classified.errorClass.rawValue)]).increment()
            if classified.errorClass == .transient && job.attempt < registered.options.retry.maxAttempts {
                await scheduleRetry(job: job, fields: fields, error: classified, policy: registered.options.retry, logger: logger)
            } else {
                let reason = classified.errorClass == .permanent
                    ? classified.message
                    : "gave up after \(job.attempt) attempts: \(classified.message)"
                logger.error("dead-lettering job", metadata: ["error_class": "\(classified.errorClass.rawValue)", "error": "\(classified.message)"])
                await deadLetter(entryID: entry.id, fields: fields, job: job, errorClass: classified.errorClass, reason: reason)
            }
        }
    }

    private func run(_ registered: JobRegistry.Entry, context: JobContext) async -> Result<Data?, Error> {
        guard let timeout = registered.options.timeout else {
            do { return .success(try await registered.handler.handle(context)) } catch { return .failure(error) }
        }
        return await withTaskGroup(of: Result<Data?, Error>?.self) { group in
            group.addTask {
                do { return .success(try await registered.handler.handle(context)) } catch { return .failure(error) }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return Task.isCancelled ? nil : .failure(JobError.transient("timed out after \(DurationText(timeout))"))
            }
            var result: Result<Data?, Error>? = nil
            while result == nil, let next = await group.next() {
                result = next
            }
            group.cancelAll()
            return result ?? .failure(CancellationError())
        }
    }

    private func complete(job: Job, result: Data?, elapsed: Duration, logger: Logger) async {
        let now = Self.nowMs()
        let resultText = result.map { String(decoding: $0, as: UTF8.self) } ?? "null"
        let outcome = #"{"status":"succeeded","attempt":\#(job.attempt),"finished_at":\#(now),"result":\#(resultText)}"#
        var event = eventFields("succeeded", job: job, now: now)
        event += ["duration_ms", String(elapsed.milliseconds), "result", resultText]
        let args = [QueueKeys.group, job.entryID, String(max(1, options.completedTTL.milliseconds / 1000)), outcome, String(options.eventsMaxLength)] + event
        let scriptKeys = [keys.stream, keys.done(job.id), keys.lease(job.id), keys.events]
        do {
            try await withRedisRetry {
                try await QueueScripts.complete.run(on: self.commands, keys: scriptKeys, args: args)
            }
            Counter(label: "pressroom_jobs_succeeded_total", dimensions: [("queue", options.name), ("type", job.type)]).increment()
            logger.debug("job succeeded", metadata: ["duration_ms": "\(elapsed.milliseconds)"])
        } catch {
            logger.warning("could not record success before shutdown; the job stays pending and will be redelivered")
        }
    }

    private func scheduleRetry(job: Job, fields: [(String, String)], error: JobError, policy: RetryPolicy, logger: Logger) async {
        let now = Self.nowMs()
        var delay = policy.delay(afterAttempt: job.attempt)
        if let retryAfter = error.retryAfter, retryAfter > delay { delay = retryAfter }
        let due = now + delay.milliseconds
        var retryFields: [(String, String)] = fields.filter {
            ![WireFormat.Field.attempt, WireFormat.Field.lastError, WireFormat.Field.lastErrorClass, WireFormat.Field.lastFailureAt, "retry_of"].contains($0.0)
        }
        if !retryFields.contains(where: { $0.0 == WireFormat.Field.firstFailureAt }) {
            retryFields.append((WireFormat.Field.firstFailureAt, String(now)))
        }
        retryFields += [
            (WireFormat.Field.attempt, String(job.attempt + 1)),
            (WireFormat.Field.lastError, error.message),
            (WireFormat.Field.lastErrorClass, error.errorClass.rawValue),
            (WireFormat.Field.lastFailureAt, String(now)),
            ("retry_of", job.entryID),
        ]
        let member = Self.jsonArray(retryFields.flatMap { [$0.0, $0.1] })
        var event = eventFields("retrying", job: job, now: now)
        event += ["error_class", error.errorClass.rawValue, "error", error.message, "next_attempt_at", String(due)]
        let args = [QueueKeys.group, job.entryID, String(due), member, String(options.eventsMaxLength)] + event
        let scriptKeys = [keys.stream, keys.delayed, keys.lease(job.id), keys.events]
        do {
            try await withRedisRetry {
                try await QueueScripts.retry.run(on: self.commands, keys: scriptKeys, args: args)
            }
            Counter(label: "pressroom_jobs_retried_total", dimensions: [("queue", options.name), ("type", job.type)]).increment()
            logger.info("job failed; retry scheduled", metadata: ["error": "\(error.message)", "retry_in_ms": "\(delay.milliseconds)"])
        } catch {
            logger.warning("could not schedule the retry before shutdown; the job stays pending and will be redelivered")
        }
    }

    private func deadLetter(entryID: String, fields: [(String, String)], job: Job?, errorClass: JobError.Class, reason: String, requireAck: Bool = true) async {
        let now = Self.nowMs()
        let fieldMap = Dictionary(fields, uniquingKeysWith: { first, _ in first })
        var dead = fields.flatMap { [$0.0, $0.1] }
        dead += [
            "original_id", entryID,
            "queue", options.name,
            "dead_reason", reason,
            "dead_error_class", errorClass.rawValue,
            "attempts", String(job?.attempt ?? Int(fieldMap[WireFormat.Field.attempt] ?? "1") ?? 1),
            "first_failure_at", fieldMap[WireFormat.Field.firstFailureAt] ?? String(now),
            "last_failure_at", String(now),
            "consumer", consumer,
        ]
        if dead.count % 2 != 0 { dead.append("") }
        var event: [String] = []
        if let job {
            event = eventFields("dead_lettered", job: job, now: now) + ["error_class", errorClass.rawValue, "error", reason]
        } else {
            event = ["event", "dead_lettered", "id", fieldMap[WireFormat.Field.id] ?? "", "type", fieldMap[WireFormat.Field.type] ?? "",
                     "queue", options.name, "entry", entryID, "error_class", errorClass.rawValue, "error", reason, "at", String(now)]
        }
        let lease = job.map { keys.lease($0.id) } ?? keys.lease("-")
        let args = [QueueKeys.group, entryID, requireAck ? "1" : "0", String(options.eventsMaxLength), String(dead.count)] + dead + event
        let scriptKeys = [keys.stream, keys.dead, lease, keys.events]
        do {
            let acked = try await withRedisRetry {
                try await QueueScripts.deadLetter.run(on: self.commands, keys: scriptKeys, args: args)
            }
            if acked.int == 1 {
                let reasonClass = reason.hasPrefix("malformed") ? "malformed" : reason.hasPrefix("poison") ? "poison"
                    : reason.hasPrefix("trimmed") ? "trimmed" : reason.hasPrefix("unknown job type") ? "unknown_type" : errorClass.rawValue
                Counter(label: "pressroom_jobs_dead_lettered_total",
                        dimensions: [("queue", options.name), ("type", job?.type ?? fieldMap["type"] ?? ""), ("reason", reasonClass)]).increment()
            }
        } catch {
            logger.warning("could not dead-letter before shutdown; the entry stays pending", metadata: ["entry": "\(entryID)"])
        }
    }

    private func eventFields(_ name: String, job: Job, now: Int64) -> [String] {
        ["event", name, "id", job.id, "type", job.type, "queue", job.queue, "entry", job.entryID,
         "attempt", String(job.attempt), "consumer", consumer, "at", String(now)]
    }

    /// Retries a state change through Redis outages until it lands or the
    /// process stops: losing an ACK would only mean a redelivery, but retrying
    /// keeps outages from turning into duplicate work.
    @discardableResult
    private func withRedisRetry<T>(_ body: @Sendable () async throws -> T) async throws -> T {
        var backoff = Backoff()
        while true {
            do {
                return try await body()
            } catch let error as RedisError where error.kind == .connection {
                if stopSignal.isStopped && backoff.attempts >= 3 { throw error }
                if Task.isCancelled { throw CancellationError() }
                await stopSignal.sleep(backoff.next())
                if stopSignal.isStopped { try? await Task.sleep(for: .milliseconds(100)) }
            }
        }
    }

    static func nowMs() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    static func jsonArray(_ strings: [String]) -> String {
        let data = try! JSONSerialization.data(withJSONObject: strings, options: [.withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (s, atto) = components
        return s * 1_000_000_000 + atto / 1_000_000_000
    }
}
