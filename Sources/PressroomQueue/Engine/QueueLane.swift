import CHiredis
import Foundation
import Logging
import Metrics
import PressroomSupport
import Synchronization

/// One queue partition's worker loop in one process: replays this consumer's
/// own pending entries, then reads new ones in batches no larger than the
/// slots it reserved, and runs each through its handler. Lanes of different
/// queues share nothing but the command client, so a flood on one queue never
/// starves another; the lanes of one queue's partitions share its slots.
final class QueueLane: Sendable {
    struct InFlight: Sendable {
        let entryID: String
        let jobID: String
        let type: String
        /// When this lane admitted it (ms since the epoch): the heartbeat
        /// publishes it, so the console shows how long the job has run.
        let startedMs: Int64
    }

    /// What the batched idempotency check decided for one entry. `.run` and
    /// `.askAlone` hold this lane's claim on the job id until its outcome is
    /// recorded, so a duplicate in a batch started meanwhile is not run twice.
    enum Admission: Sendable {
        case run, done, busy
        /// Redis could not be asked for the batch; the entry asks on its own, with retries.
        case askAlone
        /// This very entry is already in hand here (delivered again by this
        /// lane's own takeover scan), or another consumer took it over: leave
        /// it alone, and above all do not acknowledge it.
        case elsewhere
    }

    private struct Running {
        /// Job ids claimed in this lane, with the entry each came from, from
        /// admission until the outcome is recorded. The idle-time refresher
        /// keeps all of these entries (and their running markers) fresh, so
        /// none is taken over while it waits for Redis or for its record.
        var claimed: [String: InFlight] = [:]
    }

    let options: QueueOptions
    let keys: QueueKeys
    private let registry: JobRegistry
    private let commands: RedisClient
    private let fetcher: RedisClient
    /// One recorder task per client: while Redis runs one batch's
    /// transaction, the next batch is being prepared for the other.
    private let recorders: [RedisClient]
    private let consumer: String
    private let logger: Logger
    private let stopSignal: StopSignal
    private let slots: LaneSlots
    /// Jobs of this lane's own holding slots (the queue's other partitions share `slots`).
    private let own = Atomic<Int>(0)
    /// Whether sibling lanes share the slots: then an empty partition waits
    /// for entries without holding any (see ``waitForEntries()``).
    private let partitioned: Bool
    private let running = Mutex(Running())
    private let metrics: LaneMetrics
    /// ``JobState/markerPrefix(consumer:)`` of this consumer.
    private let markerPrefix: String
    private let completions = CompletionBuffer()
    private let cpu: CPUTimeAttributor
    private let observer: JobObserver?
    private let deadLetterObserver: DeadLetterObserver?
    /// Ticks once per round of the read loop (the watchdog's evidence of life).
    let progress: LoopProgress
    /// Test hook: park the read loop forever after its first entries.
    private let wedgeAfterRead: Bool

    /// - Parameters:
    ///   - keys: the partition this lane reads.
    ///   - slots, metrics: the queue's, shared by the lanes of its partitions.
    init(options: QueueOptions, keys: QueueKeys, partitioned: Bool, slots: LaneSlots, metrics: LaneMetrics, registry: JobRegistry, commands: RedisClient, fetcher: RedisClient, recorders: [RedisClient], consumer: String, logger: Logger, stopSignal: StopSignal, cpu: CPUTimeAttributor, observer: JobObserver? = nil, deadLetterObserver: DeadLetterObserver? = nil,
         progressLimit: Duration = .seconds(60), wedgeAfterRead: Bool = false) {
        self.progress = LoopProgress(name: partitioned ? "lane \(options.name)/\(keys.partition)" : "lane \(options.name)", limit: progressLimit)
        self.partitioned = partitioned
        self.wedgeAfterRead = wedgeAfterRead
        self.cpu = cpu
        self.observer = observer
        self.deadLetterObserver = deadLetterObserver
        self.options = options
        self.keys = keys
        self.registry = registry
        self.commands = commands
        self.fetcher = fetcher
        self.recorders = recorders
        self.consumer = consumer
        var logger = logger
        logger[metadataKey: "queue"] = "\(options.name)"
        if partitioned { logger[metadataKey: "partition"] = "\(keys.partition)" }
        self.logger = logger
        self.stopSignal = stopSignal
        self.slots = slots
        self.markerPrefix = JobState.markerPrefix(consumer: consumer)
        self.metrics = metrics
    }

    /// Jobs of this lane running now.
    var inFlightCount: Int { own.load(ordering: .relaxed) }

    /// Runs until the stop signal, then drains: in-flight jobs get until
    /// `drainDeadline` to finish; after that they are cancelled and their
    /// entries stay pending for another consumer (never marked failed).
    func run(drainTimeout: Duration) async {
        await withDiscardingTaskGroup { group in
            for recorder in recorders {
                group.addTask { await self.recordCompletions(on: recorder) }
            }
            var cursor = "0"  // own pending entries first, then ">"
            var backoff = Backoff()
            var reclaimCursor = "0-0"
            var nextReclaim = ContinuousClock.now
            while !stopSignal.isStopped {
                progress.tick()
                if cursor == ">" && slots.free > 0 && ContinuousClock.now >= nextReclaim {
                    // Take over entries of consumers that died mid-job, in free slots only.
                    let taken = slots.reserveNow(upTo: slots.free)
                    if taken > 0, let (next, reclaimed) = await reclaim(cursor: reclaimCursor, count: taken) {
                        slots.unreserve(taken - reclaimed.count)
                        reclaimCursor = next
                        start(reclaimed, in: &group)
                        // Keep scanning promptly while there is a backlog of orphans.
                        nextReclaim = next == "0-0" ? ContinuousClock.now + reclaimInterval : ContinuousClock.now
                    } else {
                        slots.unreserve(taken)
                        nextReclaim = ContinuousClock.now + reclaimInterval
                    }
                    continue
                }
                // Read in batches: with a few slots free and jobs still running,
                // wait a moment for more, so one XREADGROUP serves many jobs. Each
                // read costs a wait, a round trip and a start: at 2 ms, a 64-slot
                // fulfil lane read 1.5 jobs a time and spent a third of its CPU on it.
                if slots.free < refillThreshold && slots.inUse > 0 && cursor == ">" {
                    await slots.waitForFree(atLeast: refillThreshold, timeout: options.batchWait)
                }
                let count = await slots.reserve(upTo: options.batchSize, timeout: .milliseconds(200))
                if count == 0 { continue }
                let entries: [StreamEntry]
                do {
                    entries = try await read(cursor: cursor, count: count)
                    backoff.reset()
                    if wedgeAfterRead && !entries.isEmpty { await wedgeForTesting() }
                } catch {
                    slots.unreserve(count)
                    await handleReadError(error, backoff: &backoff)
                    continue
                }
                if cursor != ">" {
                    if entries.isEmpty {
                        slots.unreserve(count)
                        cursor = ">"
                        continue
                    }
                    cursor = entries.last!.id
                    // Its dead letters wait out Redis outages; each retry is a round.
                    let ready = await Self.$waitingRound.withValue(progress) { await screenReplayed(entries) }
                    slots.unreserve(count - ready.count)
                    start(ready, in: &group)
                } else {
                    slots.unreserve(count - entries.count)
                    start(entries.map { ($0, 1) }, in: &group)
                    if entries.isEmpty && partitioned {
                        do {
                            try await waitForEntries()
                        } catch {
                            await handleReadError(error, backoff: &backoff)
                        }
                    }
                }
            }
            let deadline = ContinuousClock.now + drainTimeout
            if inFlightCount > 0 {
                logger.info("draining", metadata: ["in_flight": "\(inFlightCount)", "timeout": "\(drainTimeout)"])
            }
            while inFlightCount > 0 && ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(20))
            }
            if inFlightCount > 0 {
                logger.warning("drain timeout: leaving unfinished jobs pending for another consumer", metadata: ["in_flight": "\(inFlightCount)"])
                // Successes already finished still get recorded (one more
                // transaction, abandoned at once if Redis is unreachable).
                completions.close()
                group.cancelAll()
            } else {
                completions.close()
            }
        }
    }

    /// Test hook (`PRESSROOM_TEST_WEDGE_LANE`): an await that never returns,
    /// as a deadlock would leave the loop, so tests can see the watchdog notice.
    private func wedgeForTesting() async {
        logger.warning("test hook: wedging this lane's read loop")
        await withUnsafeContinuation { (_: UnsafeContinuation<Void, Never>) in }
    }

    /// Entries whose handler is running, for the idle-time refresher and the heartbeat.
    func inFlightEntries() -> [InFlight] {
        running.withLock { Array($0.claimed.values) }
    }

    /// Turns the slots reserved for `entries` into running ones and runs them
    /// in a task of their own, so the lane can read the next batch while this
    /// one is admitted and run.
    private func start(_ entries: [(StreamEntry, Int)], in group: inout DiscardingTaskGroup) {
        guard !entries.isEmpty else { return }
        slots.commit(entries.count)
        own.add(entries.count, ordering: .relaxed)
        metrics.inFlight.record(slots.inUse)
        group.addTask { await self.runBatch(entries.map(\.0)) }
    }

    private func runBatch(_ entries: [StreamEntry]) async {
        let parsed = entries.map { WireFormat.parse(entryID: $0.id, fields: $0.fields ?? [], queue: options.name, partition: keys.partition) }
        let admissions = await admit(parsed.compactMap { try? $0.get() })
        await withDiscardingTaskGroup { group in
            for (entry, job) in zip(entries, parsed) {
                let admission = (try? job.get()).flatMap { admissions[$0.entryID] }
                // Started right here, on this thread, until the handler first
                // suspends: a job that finishes without waiting (a duplicate, a
                // quick handler) never goes through the executor's queue.
                group.addImmediateTask {
                    // A success hands its slot to the recorder, which frees it once recorded.
                    if await !self.process(entry, parsed: job, admission: admission) {
                        self.releaseSlots(1)
                    }
                }
            }
        }
    }

    /// Idempotency for a whole batch in one round trip: which jobs already
    /// finished, which run elsewhere, and which to run (lease taken). Jobs of
    /// types this lane does not run get no admission.
    private func admit(_ jobs: [Job]) async -> [String: Admission] {
        var admissions: [String: Admission] = [:]
        var ask: [Job] = []
        let now = Self.nowMs()
        running.withLock { running in
            for job in jobs where registry.entry(for: job.type)?.options.queue == options.name {
                // The same id twice in this process (a duplicate enqueue): the first one runs.
                if let holder = running.claimed[job.id] {
                    // The same entry again is this lane's own; another entry is a duplicate enqueue.
                    admissions[job.entryID] = holder.entryID == job.entryID ? .elsewhere : .busy
                } else {
                    running.claimed[job.id] = InFlight(entryID: job.entryID, jobID: job.id, type: job.type, startedMs: now)
                    ask.append(job)
                }
            }
        }
        guard !ask.isEmpty else { return admissions }
        do {
            let verdicts = try await admission(for: ask)
            var released: [String] = []
            for (job, verdict) in zip(ask, verdicts) {
                admissions[job.entryID] = verdict
                if verdict != .run { released.append(job.id) }
            }
            if !released.isEmpty { releaseClaims(released) }
        } catch {
            for job in ask { admissions[job.entryID] = .askAlone }
        }
        return admissions
    }

    /// This consumer's value in the state key of a job it runs from `entry`.
    private func runningMarker(_ entry: String) -> String {
        // Stream entry ids are digits and a dash: nothing to escape.
        entry.utf8.allSatisfy { $0 == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
            ? markerPrefix + "\"" + entry + "\"}"
            : JobState.running(consumer: consumer, entry: entry)
    }

    /// Asks Redis about `jobs` in one round trip: per job one
    /// `SET {…}:job:<id> <running marker> NX GET PX claimMinIdle`. An absent
    /// key is taken: run it. A running marker for the same entry means the
    /// entry came back (a restart replay, or a takeover from a dead
    /// consumer): take the marker over and run it. A running marker for
    /// another entry is a duplicate enqueue running elsewhere; anything else
    /// is a finished job's record.
    private func admission(for jobs: [Job]) async throws -> [Admission] {
        var pipeline = RESPPipeline()
        let leaseMs = options.claimMinIdle.milliseconds
        for job in jobs {
            let marker = runningMarker(job.entryID)
            pipeline.append(argumentCount: 7) {
                $0.add("SET"); $0.add(keys.job(job.id)); $0.add(marker); $0.add("NX"); $0.add("GET"); $0.add("PX"); $0.add(leaseMs)
            }
        }
        let states = try await commands.send(pipeline) { pointer -> Result<String?, RedisError> in
            let reply = pointer.pointee
            switch reply.type {
            case REDIS_REPLY_NIL: return .success(nil)
            case REDIS_REPLY_ERROR: return .failure(.server(RawReply.text(reply)))
            default: return .success(RawReply.text(reply))
            }
        }
        var verdicts: [Admission] = []
        verdicts.reserveCapacity(jobs.count)
        for (job, result) in zip(jobs, states) {
            guard let state = try result.get() else {
                verdicts.append(.run)
                continue
            }
            if state == runningMarker(job.entryID) {
                verdicts.append(.run)
            } else if JobState.isRunning(state, entry: job.entryID) {
                verdicts.append(try await admitOne(job))
            } else {
                verdicts.append(JobState.isRunning(state) ? .busy : .done)
            }
        }
        return verdicts
    }

    /// One entry through ``QueueScripts/admitOne``: only while it is pending
    /// to this consumer, so a record written meanwhile by an old owner is
    /// never overwritten and a consumer that lost the entry to another one
    /// does not run it too.
    private func admitOne(_ job: Job) async throws -> Admission {
        let marker = runningMarker(job.entryID)
        let reply = try await QueueScripts.admitOne.run(
            on: commands, keys: [keys.stream, keys.job(job.id)],
            args: [QueueKeys.group, job.entryID, consumer, marker, JobState.entrySuffix(job.entryID),
                   String(options.claimMinIdle.milliseconds)])
        let parts = reply.array ?? []
        switch parts.first?.string {
        case "run": return .run
        case "state":
            let current = parts.count > 1 ? parts[1].string ?? "" : ""
            return JobState.isRunning(current) ? .busy : .done
        default: return .elsewhere
        }
    }

    private func releaseClaims<S: Sequence>(_ jobIDs: S) where S.Element == String {
        running.withLock { running in
            for id in jobIDs { running.claimed.removeValue(forKey: id) }
        }
    }

    private func releaseSlots(_ count: Int) {
        own.subtract(count, ordering: .relaxed)
        slots.release(count)
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
                    metrics.deadLettered(type: "", reason: "poison").increment(by: Int(poisoned))
                }
                if trimmed > 0 {
                    metrics.deadLettered(type: "", reason: "trimmed").increment(by: Int(trimmed))
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

    /// One XREADGROUP of this partition. Alone on its slots, the lane blocks
    /// here for new entries; a partition's lane never blocks holding slots
    /// its siblings could use, it waits in ``waitForEntries()`` instead.
    private func read(cursor: String, count: Int) async throws -> [StreamEntry] {
        var args = ["XREADGROUP", "GROUP", QueueKeys.group, consumer, "COUNT", String(count)]
        if cursor == ">" && !partitioned { args += ["BLOCK", String(options.block.milliseconds)] }
        args += ["STREAMS", keys.stream, cursor]
        return try await fetcher.send(RESPCommand(args), decode: StreamEntry.decodeReadReply)
    }

    /// Blocks (up to `block`) until the partition has entries the group has
    /// not delivered, without taking any: a plain XREAD after the group's
    /// last-delivered id. An entry added after the empty read is after that
    /// id, so none is missed; one taken meanwhile by another consumer only
    /// costs an empty read.
    private func waitForEntries() async throws {
        let groups = try await fetcher.call(["XINFO", "GROUPS", keys.stream])
        var lastDelivered = "0-0"
        for group in groups.array ?? [] {
            let info = Dictionary(group.fieldPairsRaw, uniquingKeysWith: { a, _ in a })
            if info["name"]?.string == QueueKeys.group, let id = info["last-delivered-id"]?.string { lastDelivered = id }
        }
        _ = try await fetcher.call(["XREAD", "COUNT", "1", "BLOCK", String(options.block.milliseconds), "STREAMS", keys.stream, lastDelivered])
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
                let job = try? WireFormat.parse(entryID: entry.id, fields: entry.fields ?? [], queue: options.name, partition: keys.partition).get()
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

    /// Runs one entry to its outcome. Returns true when the job succeeded and
    /// its completion (and slot) went to the recorder.
    private func process(_ entry: StreamEntry, parsed: Result<Job, WireFormat.Malformed>, admission: Admission?) async -> Bool {
        let fields = entry.fields ?? []
        let job: Job
        switch parsed {
        case .failure(let malformed):
            logger.warning("dead-lettering malformed entry", metadata: ["entry": "\(entry.id)", "reason": "\(malformed.reason)"])
            await deadLetter(entryID: entry.id, fields: fields, job: nil, errorClass: .permanent, reason: malformed.reason)
            return false
        case .success(let parsed):
            job = parsed
        }
        // This entry's claim on the job id ends here unless a success hands it to the recorder.
        var claimHeld = admission == .run || admission == .askAlone
        defer { if claimHeld { releaseClaims(CollectionOfOne(job.id)) } }
        // The job's logger is made only on the paths that log.
        var jobLogger: Logger { JobContext.jobLogger(self.logger, job) }
        guard let registered = registry.entry(for: job.type), registered.options.queue == options.name else {
            let known = registry.types(on: options.name).joined(separator: ", ")
            await deadLetter(entryID: entry.id, fields: fields, job: job, errorClass: .permanent,
                             reason: "unknown job type '\(job.type)' on queue '\(options.name)' (this queue runs: \(known.isEmpty ? "nothing" : known))")
            return false
        }
        let typeMetrics = metrics.type(job.type)

        // Idempotency: a finished id is acknowledged unrun; a running one is left to its owner.
        var verdict = admission ?? .askAlone
        if verdict == .askAlone {
            do {
                verdict = try await withRedisRetry { try await self.admitOne(job) }
            } catch {
                return false  // stopped while Redis was down: the entry stays pending
            }
            if verdict != .run { claimHeld = false; releaseClaims(CollectionOfOne(job.id)) }
        }
        if verdict == .elsewhere {
            jobLogger.debug("entry already in hand or taken over by another consumer; leaving it", metadata: ["entry": "\(entry.id)"])
            return false
        }
        if verdict != .run {
            jobLogger.info(verdict == .done ? "job already completed; acknowledging duplicate" : "job id running on another consumer; acknowledging duplicate",
                        metadata: ["entry": "\(entry.id)"])
            _ = try? await withRedisRetry { try await self.commands.call(["XACK", self.keys.stream, QueueKeys.group, entry.id]) }
            typeMetrics.duplicates.increment()
            return false
        }

        typeMetrics.started.increment()
        if let enqueuedAt = job.enqueuedAt, job.attempt == 1 {
            metrics.queueWait.recordSeconds(max(0, Date().timeIntervalSince(enqueuedAt)))
        }

        let started = ContinuousClock.now
        let cpuToken = cpu.begin(weight: options.cpuWeight)
        let context = JobContext(job: job, laneLogger: logger, consumer: consumer)
        let outcome: Result<Data?, Error> = await run(registered, context: context)
        let elapsed = ContinuousClock.now - started
        typeMetrics.duration.recordNanoseconds(elapsed.nanoseconds)
        // Process CPU while the job ran, shared among all jobs in flight by
        // weight: exact for a job running alone, an estimate otherwise (docs/metrics.md).
        let jobCPU = cpu.end(cpuToken)
        typeMetrics.cpu.increment(by: jobCPU.seconds)
        func observe(_ result: JobRun.Outcome) async {
            await observer?(JobRun(job: job, outcome: result, cpu: jobCPU, duration: elapsed))
        }

        switch outcome {
        case .success(let result):
            let resultText = result.map { String(decoding: $0, as: UTF8.self) } ?? "null"
            claimHeld = false
            completions.submit(.init(job: job, result: resultText, durationMs: elapsed.milliseconds))
            // Once the completion is handed over: the observer's Redis calls (a fulfil
            // ticket's cost and settle, four round trips) neither hold the slot nor delay the success.
            await observe(.succeeded)
            return true
        case .failure(let error):
            await observe(error is JobDeferral ? .deferred : .failed)
            if Task.isCancelled || (error is CancellationError && stopSignal.isStopped) {
                jobLogger.warning("job interrupted by shutdown; left pending for another consumer")
                return false
            }
            if let deferral = error as? JobDeferral {
                await deferJob(job: job, fields: fields, deferral: deferral, logger: jobLogger)
                return false
            }
            let classified = error as? JobError ?? .transient(String(describing: error))
            typeMetrics.failed(classified.errorClass).increment()
            if classified.errorClass == .transient && job.attempt < registered.options.retry.maxAttempts {
                await scheduleRetry(job: job, fields: fields, error: classified, policy: registered.options.retry, logger: jobLogger)
            } else {
                let reason = classified.errorClass == .permanent
                    ? classified.message
                    : "gave up after \(job.attempt) attempts: \(classified.message)"
                jobLogger.error("dead-lettering job", metadata: ["error_class": "\(classified.errorClass.rawValue)", "error": "\(classified.message)"])
                await deadLetter(entryID: entry.id, fields: fields, job: job, errorClass: classified.errorClass, reason: reason)
            }
            return false
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

    /// Most completions one script call records: bounds how long Redis is busy with one call.
    private static let completionBatchLimit = 128

    /// The lane's recorder: writes gathered successes to Redis in batches and
    /// frees their slots once recorded, so a drain waits for the records too.
    private func recordCompletions(on recorder: RedisClient) async {
        var batchesAfterCancel = 0
        while true {
            let batch = await completions.next(limit: Self.completionBatchLimit)
            if batch.isEmpty { return }
            // Past the drain timeout: one more attempt, not one per batch, so a
            // hung Redis cannot hold the exit past the stop timeout.
            if Task.isCancelled {
                batchesAfterCancel += 1
                if batchesAfterCancel > 1 { return }
            }
            await record(batch, on: recorder)
            releaseClaims(batch.lazy.map(\.job.id))
            releaseSlots(batch.count)
            metrics.inFlight.record(slots.inUse)
        }
    }

    /// Records successes in one transaction: XACK, replace the running
    /// markers with the completed-id records, publish the events. All of it or
    /// nothing, so a crash can never leave a job acknowledged without its
    /// record and event.
    ///
    /// After a failure the transaction may or may not have run (a reply lost
    /// with its connection; a command failing inside `EXEC`). Before sending
    /// again, each job's state key is read: a job that already has its record
    /// is done, so a transaction that ran is never repeated (no second event)
    /// and one that did not is sent again until it lands or the process stops.
    private func record(_ batch: [CompletionBuffer.Item], on recorder: RedisClient) async {
        var remaining = batch
        var backoff = Backoff()
        var reported = false
        while !remaining.isEmpty {
            do {
                let errors = try await recorder.send(completion(remaining)) { RawReply.firstError($0) }
                if let error = errors.lazy.compactMap({ $0 }).first { throw RedisError.server(error) }
                break
            } catch {
                // Draining: keep trying within the drain timeout, which cancels
                // this task when it runs out; then the jobs stay pending.
                if Task.isCancelled {
                    logger.warning("could not record successes before shutdown; the jobs stay pending and will be redelivered",
                                   metadata: ["jobs": "\(remaining.count)"])
                    return
                }
                // Server errors (LOADING, OOM under noeviction, READONLY during a
                // failover, ...) pass like outages: logged once per batch, retried.
                if let redisError = error as? RedisError, redisError.kind == .server, !reported {
                    reported = true
                    logger.error("recording successes failed; retrying", metadata: ["jobs": "\(remaining.count)", "error": "\(redisError.message)"])
                }
                // Only a state read that succeeded decides what is sent again:
                // a read that failed too says nothing, and resending on it
                // would repeat a transaction that ran (a second event).
                while true {
                    if stopSignal.isStopped {
                        try? await Task.sleep(for: min(backoff.next(), .milliseconds(250)))
                    } else {
                        await stopSignal.sleep(backoff.next())
                    }
                    if Task.isCancelled {
                        logger.warning("could not record successes before shutdown; the jobs stay pending and will be redelivered",
                                       metadata: ["jobs": "\(remaining.count)"])
                        return
                    }
                    if let left = await unrecorded(remaining, on: recorder) {
                        remaining = left
                        break
                    }
                }
            }
        }
        for item in batch {
            metrics.type(item.job.type).succeeded.increment()
        }
        if logger.logLevel <= .debug {
            for item in batch {
                logger.debug("job succeeded", metadata: ["job_id": "\(item.job.id)", "type": "\(item.job.type)",
                                                         "attempt": "\(item.job.attempt)", "duration_ms": "\(item.durationMs)"])
            }
        }
    }

    private func completion(_ batch: [CompletionBuffer.Item]) -> RESPPipeline {
        let now = Self.nowMs()
        let ttl = max(1, options.completedTTL.milliseconds / 1000)
        var pipeline = RESPPipeline(capacity: batch.count * 400)
        pipeline.append(CollectionOfOne("MULTI"))
        pipeline.append(["XACK", keys.stream, QueueKeys.group] + batch.map(\.job.entryID))
        // The console's per-minute chart: one counter update per batch, not per job.
        let counter = ThroughputCounters.key(keys, .succeeded, minute: ThroughputCounters.minute(ms: now))
        pipeline.append(["INCRBY", counter, String(batch.count)])
        pipeline.append(["EXPIRE", counter, String(ThroughputCounters.ttlSeconds)])
        for item in batch {
            let outcome = JobState.succeeded(attempt: item.job.attempt, finishedAt: now, result: item.result)
            pipeline.append(argumentCount: 5) {
                $0.add("SET"); $0.add(keys.job(item.job.id)); $0.add(outcome); $0.add("EX"); $0.add(ttl)
            }
        }
        if options.eventsMaxLength > 0 {
            for item in batch {
                pipeline.append(argumentCount: 26) {
                    $0.add("XADD"); $0.add(keys.events); $0.add("MAXLEN"); $0.add("~"); $0.add(options.eventsMaxLength); $0.add("*")
                    $0.add("event"); $0.add("succeeded")
                    $0.add("id"); $0.add(item.job.id)
                    $0.add("type"); $0.add(item.job.type)
                    $0.add("queue"); $0.add(options.name)
                    $0.add("entry"); $0.add(item.job.entryID)
                    $0.add("attempt"); $0.add(item.job.attempt)
                    $0.add("consumer"); $0.add(consumer)
                    $0.add("at"); $0.add(now)
                    $0.add("duration_ms"); $0.add(item.durationMs)
                    $0.add("result"); $0.add(item.result)
                }
            }
        }
        pipeline.append(CollectionOfOne("EXEC"))
        return pipeline
    }

    /// The items whose job has no completed record yet, or nil when the state
    /// keys could not be read (a broken connection, an error reply): then
    /// nothing is known, and the caller reads again before sending anything.
    private func unrecorded(_ items: [CompletionBuffer.Item], on recorder: RedisClient) async -> [CompletionBuffer.Item]? {
        var pipeline = RESPPipeline()
        for item in items {
            pipeline.append(["GET", keys.job(item.job.id)])
        }
        guard let states = try? await recorder.send(pipeline, decode: { pointer -> Bool? in
            let reply = pointer.pointee
            switch reply.type {
            case REDIS_REPLY_NIL: return false
            case REDIS_REPLY_ERROR: return nil
            default: return RawReply.withBytes(reply) { !$0.starts(with: JobState.runningPrefix.utf8) }
            }
        }), states.count == items.count, !states.contains(where: { $0 == nil }) else { return nil }
        return zip(items, states).filter { $0.1 != true }.map(\.0)
    }

    private func scheduleRetry(job: Job, fields: [(String, String)], error: JobError, policy: RetryPolicy, logger: Logger) async {
        let now = Self.nowMs()
        var delay = policy.delay(afterAttempt: job.attempt)
        if let retryAfter = error.retryAfter, retryAfter > delay { delay = retryAfter }
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
        let scheduled = await delayEntry(job: job, fields: retryFields, delay: delay, now: now, event: "retrying",
                                         eventDetail: ["error_class", error.errorClass.rawValue, "error", error.message])
        switch scheduled {
        case true?:
            metrics.type(job.type).retried.increment()
            logger.info("job failed; retry scheduled", metadata: ["error": "\(error.message)", "retry_in_ms": "\(delay.milliseconds)"])
        case false?:
            logger.warning("job failed, but its entry was no longer pending here (taken over or acknowledged elsewhere); no retry scheduled",
                           metadata: ["error": "\(error.message)"])
        case nil:
            logger.warning("could not schedule the retry before shutdown; the job stays pending and will be redelivered")
        }
    }

    /// A deferred job goes back to the delayed set with the same attempt
    /// number; `deferred_since` (kept across deferrals) bounds its total wait.
    private func deferJob(job: Job, fields: [(String, String)], deferral: JobDeferral, logger: Logger) async {
        let now = Self.nowMs()
        let since = job.fields[WireFormat.Field.deferredSince].flatMap { Int64($0) } ?? now
        let waited = now - since
        if waited + deferral.delay.milliseconds > deferral.maxWait.milliseconds {
            let reason = "\(deferral.reason); waiting \(DurationText(deferral.delay)) more after \(DurationText(.milliseconds(waited))) would pass the \(DurationText(deferral.maxWait)) a job may wait"
            logger.error("dead-lettering deferred job", metadata: ["error": "\(reason)"])
            await deadLetter(entryID: job.entryID, fields: fields, job: job, errorClass: .permanent, reason: reason, reasonClass: deferral.reasonClass)
            return
        }
        var delayedFields = fields.filter { ![WireFormat.Field.deferredReason, "retry_of"].contains($0.0) }
        if !delayedFields.contains(where: { $0.0 == WireFormat.Field.deferredSince }) {
            delayedFields.append((WireFormat.Field.deferredSince, String(now)))
        }
        delayedFields += [(WireFormat.Field.deferredReason, deferral.reason), ("retry_of", job.entryID)]
        let scheduled = await delayEntry(job: job, fields: delayedFields, delay: deferral.delay, now: now, event: "deferred",
                                         eventDetail: ["reason", deferral.reason])
        if scheduled == true {
            metrics.type(job.type).deferred.increment()
            logger.info("job deferred", metadata: ["reason": "\(deferral.reason)", "retry_in_ms": "\(deferral.delay.milliseconds)"])
        } else if scheduled == nil {
            logger.warning("could not defer the job before shutdown; it stays pending and will be redelivered")
        }
    }

    /// Acknowledges the entry and puts `fields` in the delayed set for `delay`,
    /// with an event, in one script. `true` when scheduled, `false` when the
    /// entry was no longer pending here, `nil` when Redis could not be reached before shutdown.
    private func delayEntry(job: Job, fields: [(String, String)], delay: Duration, now: Int64, event name: String, eventDetail: [String]) async -> Bool? {
        let due = now + delay.milliseconds
        let member = Self.jsonArray(fields.flatMap { [$0.0, $0.1] })
        let event = eventFields(name, job: job, now: now) + eventDetail + ["next_attempt_at", String(due)]
        let args = [QueueKeys.group, job.entryID, String(due), member, String(options.eventsMaxLength), runningMarker(job.entryID)] + event
        // A retry counts as a failed attempt on the console's chart; a deferral does not.
        let failureCounter = name == "retrying" ? [ThroughputCounters.key(keys, .failed, minute: ThroughputCounters.minute(ms: now))] : []
        let scriptKeys = [keys.stream, keys.delayed, keys.job(job.id), keys.events] + failureCounter
        do {
            let acked = try await withRedisRetry {
                try await QueueScripts.retry.run(on: self.commands, keys: scriptKeys, args: args)
            }
            return acked.int == 1
        } catch {
            return nil
        }
    }

    private func deadLetter(entryID: String, fields: [(String, String)], job: Job?, errorClass: JobError.Class, reason: String, requireAck: Bool = true, reasonClass explicitClass: String? = nil) async {
        let now = Self.nowMs()
        let fieldMap = Dictionary(fields, uniquingKeysWith: { first, _ in first })
        // The dead letter's own fields replace an earlier attempt's of the same
        // name (a retried entry carries first/last_failure_at): one value per name.
        let own: Set<String> = ["original_id", "queue", "dead_reason", "dead_error_class", "attempts",
                                WireFormat.Field.firstFailureAt, WireFormat.Field.lastFailureAt, "consumer"]
        var dead = fields.filter { !own.contains($0.0) }.flatMap { [$0.0, $0.1] }
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
        let state = keys.job(job?.id ?? "-")
        let args = [QueueKeys.group, entryID, requireAck ? "1" : "0", String(options.eventsMaxLength), runningMarker(entryID), String(dead.count)] + dead + event
        let scriptKeys = [keys.stream, keys.dead, state, keys.events, ThroughputCounters.key(keys, .failed, minute: ThroughputCounters.minute(ms: now))]
        do {
            let acked = try await withRedisRetry {
                try await QueueScripts.deadLetter.run(on: self.commands, keys: scriptKeys, args: args)
            }
            if acked.int == 1 {
                let reasonClass = explicitClass ?? (reason.hasPrefix("malformed") ? "malformed" : reason.hasPrefix("poison") ? "poison"
                    : reason.hasPrefix("trimmed") ? "trimmed" : reason.hasPrefix("unknown job type") ? "unknown_type" : errorClass.rawValue)
                metrics.deadLettered(type: job?.type ?? fieldMap["type"] ?? "", reason: reasonClass).increment()
                if let deadLetterObserver, let id = job?.id ?? fieldMap[WireFormat.Field.id], !id.isEmpty {
                    await deadLetterObserver(DeadLetterNotice(id: id, type: job?.type ?? fieldMap[WireFormat.Field.type] ?? "", queue: options.name,
                                                              reason: reason, errorClass: errorClass))
                }
            }
        } catch {
            logger.warning("could not dead-letter before shutdown; the entry stays pending", metadata: ["entry": "\(entryID)"])
        }
    }

    private func eventFields(_ name: String, job: Job, now: Int64) -> [String] {
        ["event", name, "id", job.id, "type", job.type, "queue", job.queue, "entry", job.entryID,
         "attempt", String(job.attempt), "consumer", consumer, "at", String(now)]
    }

    /// The read loop's progress while it waits in ``withRedisRetry(_:)`` itself
    /// (never set for job tasks): retrying through an outage is not a wedge.
    @TaskLocal static var waitingRound: LoopProgress?

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
                Self.waitingRound?.tick()
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
