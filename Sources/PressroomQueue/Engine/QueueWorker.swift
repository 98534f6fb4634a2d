import Foundation
import Logging
import Metrics
import ServiceLifecycle
import PressroomSupport
import Synchronization

/// The worker pool of one process: a lane per queue partition (the lanes of
/// one queue share its concurrency), plus the maintenance
/// that keeps the queues healthy (due retries, idle-time refresh of running
/// jobs, the consumer-name lock, trimming).
///
/// On graceful shutdown it stops reading at once, lets in-flight jobs finish
/// for up to `drainTimeout`, and leaves the rest pending for other consumers.
public final class QueueWorker: Service, Sendable {
    public struct Configuration: Sendable {
        public var topology: RedisTopology
        public var namespace: String
        public var consumer: String
        public var queues: [QueueOptions]
        public var drainTimeout: Duration
        /// How often due retries are moved back onto their streams.
        public var delayedPollInterval: Duration
        /// How often acknowledged entries are trimmed away.
        public var trimInterval: Duration
        /// How often queue gauges (length, pending, lag, ...) are sampled.
        public var statsInterval: Duration = .seconds(10)
        /// Test hook: the queue whose read loop wedges after its first entries.
        public var wedgeQueueForTesting: String?
        /// The Pressroom release this process runs, published with its heartbeat.
        public var version: String?

        public init(endpoint: RedisEndpoint, namespace: String = "pressroom", consumer: String, queues: [QueueOptions],
                    drainTimeout: Duration = .seconds(30), delayedPollInterval: Duration = .milliseconds(250),
                    trimInterval: Duration = .seconds(30)) {
            self.init(topology: .single(endpoint), namespace: namespace, consumer: consumer, queues: queues,
                      drainTimeout: drainTimeout, delayedPollInterval: delayedPollInterval, trimInterval: trimInterval)
        }

        public init(topology: RedisTopology, namespace: String = "pressroom", consumer: String, queues: [QueueOptions],
                    drainTimeout: Duration = .seconds(30), delayedPollInterval: Duration = .milliseconds(250),
                    trimInterval: Duration = .seconds(30)) {
            self.topology = topology
            self.namespace = namespace
            self.consumer = consumer
            self.queues = queues
            self.drainTimeout = drainTimeout
            self.delayedPollInterval = delayedPollInterval
            self.trimInterval = trimInterval
        }
    }

    /// What readiness probes and systemd status lines report.
    public enum Phase: String, Sendable {
        case starting, ready, draining, stopped
    }

    public let configuration: Configuration
    private let registry: JobRegistry
    private let logger: Logger
    public let health: RedisHealth
    private let commands: RedisClient
    private let stopSignal = StopSignal()
    private let phaseState = Mutex<Phase>(.starting)
    private let lanes: [QueueLane]
    /// Each lane's own connections (blocking reads; success records).
    private let laneClients: [RedisClient]
    private let onReady: @Sendable () -> Void
    private let onDraining: @Sendable () -> Void
    /// Charges process CPU time to job types (one per process).
    public let cpu = CPUTimeAttributor(readingInterval: .milliseconds(1))

    /// - Parameters:
    ///   - onReady: called once the consumer name is held and the groups exist.
    ///   - onDraining: called when a graceful shutdown starts the drain.
    ///   - observer: told about every handler run with the CPU time it was
    ///     given, so costs can be charged to what the jobs work on.
    ///   - deadLetterObserver: told about every dead letter this process records.
    public init(configuration: Configuration, registry: JobRegistry, logger: Logger,
                onReady: @escaping @Sendable () -> Void = {}, onDraining: @escaping @Sendable () -> Void = {},
                observer: JobObserver? = nil, deadLetterObserver: DeadLetterObserver? = nil) {
        self.onDraining = onDraining
        self.configuration = configuration
        self.registry = registry
        var logger = logger
        logger[metadataKey: "consumer"] = "\(configuration.consumer)"
        self.logger = logger
        self.onReady = onReady
        let health = RedisHealth(logger: logger)
        self.health = health
        let blockMax = configuration.queues.map(\.block).max() ?? .seconds(1)
        self.commands = RedisClient(topology: configuration.topology, name: "commands", health: health)
        var laneClients: [RedisClient] = []
        var lanes: [QueueLane] = []
        var gauges: [QueueGauges] = []
        for queue in configuration.queues {
            let partitions = queue.partitioning(namespace: configuration.namespace)
            let slots = LaneSlots(capacity: queue.concurrency)
            let metrics = LaneMetrics(queue: queue.name, types: registry.types(on: queue.name))
            gauges.append(QueueGauges(partitions: partitions))
            for keys in partitions.all {
                // Partition 0 keeps the names of an unpartitioned queue's connections.
                let name = keys.partition == 0 ? queue.name : "\(queue.name)-p\(keys.partition)"
                let fetcher = RedisClient(topology: configuration.topology, name: "fetch-\(name)",
                                          commandTimeout: blockMax + .seconds(5), health: health)
                // Records go over a connection of their own, so Redis runs one
                // batch's transaction while this process prepares the next admission.
                let recorders = (1...2).map { RedisClient(topology: configuration.topology, name: "record-\(name)-\($0)", health: health) }
                laneClients += [fetcher] + recorders
                // A round is at most one read (connect, BLOCK, reply) plus a reconnect backoff.
                lanes.append(QueueLane(options: queue, keys: keys, partitioned: partitions.readCount > 1, slots: slots, metrics: metrics,
                                       registry: registry, commands: commands,
                                       fetcher: fetcher, recorders: recorders, consumer: configuration.consumer, logger: logger, stopSignal: stopSignal, cpu: cpu,
                                       observer: observer, deadLetterObserver: deadLetterObserver, progressLimit: blockMax + .seconds(20),
                                       wedgeAfterRead: configuration.wedgeQueueForTesting == queue.name))
            }
        }
        self.laneClients = laneClients
        self.lanes = lanes
        self.gauges = gauges
        // Rounds of a few sequential commands per partition, each bounded by the client's timeouts.
        let perQueue = Duration.seconds(15) * max(1, lanes.count)
        self.maintenanceProgress = LoopProgress(name: "maintenance", limit: .seconds(60) + perQueue * 4)
        self.claimProgress = LoopProgress(name: "claim refresh", limit: .seconds(60) + perQueue)
    }

    private let gauges: [QueueGauges]
    private let noticeState = Mutex<String?>(nil)

    /// Trouble this process reports with its heartbeat, for `pressroom status`.
    public var notice: String? {
        get { noticeState.withLock { $0 } }
        set { noticeState.withLock { $0 = newValue } }
    }
    private let maintenanceProgress: LoopProgress
    private let claimProgress: LoopProgress

    /// Every long-running loop, for the watchdog.
    public var loops: [LoopProgress] { lanes.map(\.progress) + [maintenanceProgress, claimProgress] }

    /// Loops that have not gone round within their limit while the worker
    /// runs (starting and draining have their own timeouts): a wedged process.
    /// A Redis outage stalls none of them.
    public var stalledLoops: [LoopProgress] {
        guard phase == .ready else { return [] }
        return loops.filter(\.isStalled)
    }

    public var phase: Phase { phaseState.withLock { $0 } }

    /// Jobs running now, per queue.
    public var inFlight: [String: Int] {
        Dictionary(lanes.map { ($0.options.name, $0.inFlightCount) }, uniquingKeysWith: +)
    }

    /// Stops reading new jobs (the same as a graceful shutdown request).
    public func stop() {
        stopSignal.stop()
    }

    public func run() async throws {
        let lock = ConsumerLock(namespace: configuration.namespace, consumer: configuration.consumer, client: commands)
        defer {
            phaseState.withLock { $0 = .stopped }
            commands.shutdown()
            laneClients.forEach { $0.shutdown() }
        }
        try await startUp(lock: lock)
        if stopSignal.isStopped { return }
        loops.forEach { $0.tick() }
        phaseState.withLock { $0 = .ready }
        logger.info("worker ready", metadata: ["queues": "\(configuration.queues.map { "\($0.name)×\($0.concurrency)" }.joined(separator: " "))"])
        onReady()

        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    await withTaskGroup(of: Void.self) { laneGroup in
                        for lane in self.lanes {
                            laneGroup.addTask { await lane.run(drainTimeout: self.configuration.drainTimeout) }
                        }
                    }
                }
                group.addTask { await self.maintain() }
                group.addTask { await self.keepConsumerName(lock: lock) }
                group.addTask { await self.keepRunningJobsClaimed() }
                await group.next()
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.phaseState.withLock { $0 = .draining }
            self.logger.info("graceful shutdown: no new jobs; draining in-flight jobs")
            self.stopSignal.stop()
            self.onDraining()
        }
        for lane in lanes {
            _ = try? await commands.call(["ZREM", lane.keys.consumers, configuration.consumer])
        }
        await lock.release()
        logger.info("worker stopped")
    }

    /// Takes the consumer name and creates the groups, waiting out Redis
    /// outages (a worker started before Redis just waits for it).
    private func startUp(lock: ConsumerLock) async throws {
        var backoff = Backoff()
        while !stopSignal.isStopped {
            do {
                try await lock.acquire()
                for lane in lanes {
                    try await QueueAdmin.ensureGroup(keys: lane.keys, client: commands)
                }
                return
            } catch let error as RedisError where error.kind == .connection {
                await withGracefulShutdownHandler {
                    await stopSignal.sleep(backoff.next())
                } onGracefulShutdown: {
                    self.stopSignal.stop()
                }
            }
        }
    }

    /// Refreshes the consumer-name lock in a loop of its own: behind slow
    /// maintenance on a loaded machine a late refresh let a second process
    /// with the same name take it over (and this one stop).
    private func keepConsumerName(lock: ConsumerLock) async {
        let clock = ContinuousClock()
        var next = clock.now
        while !Task.isCancelled {
            if clock.now >= next {
                next = clock.now + lock.refreshInterval
                do {
                    if try await !lock.hold() {
                        logger.critical("another process took over this consumer name; stopping", metadata: ["lock": "\(lock.key)"])
                        stopSignal.stop()
                    }
                } catch {
                    // Redis is down; RedisHealth already logged it.
                }
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    private func maintain() async {
        let clock = ContinuousClock()
        var nextDelayed = clock.now
        var nextTrim = clock.now + .seconds(1)
        var nextSample = clock.now
        var nextHeartbeat = clock.now
        while !Task.isCancelled {
            maintenanceProgress.tick()
            let now = clock.now
            if now >= nextDelayed && !stopSignal.isStopped {
                nextDelayed = now + configuration.delayedPollInterval
                for lane in lanes { await moveDue(lane) }
            }
            if now >= nextTrim && !stopSignal.isStopped {
                nextTrim = now + configuration.trimInterval
                for lane in lanes { await trim(lane) }
            }
            if now >= nextHeartbeat && !stopSignal.isStopped {
                nextHeartbeat = now + .seconds(5)
                for lane in lanes {
                    try? await QueueAdmin.heartbeat(keys: lane.keys, client: commands, consumer: configuration.consumer, notice: notice,
                                                    version: configuration.version, inFlight: lane.inFlightEntries())
                }
            }
            if now >= nextSample {
                nextSample = now + configuration.statsInterval
                for gauge in gauges {
                    if let status = try? await QueueAdmin.status(of: gauge.partitions, client: commands) { gauge.record(status) }
                }
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Refreshes the idle time of running jobs at a third of `claimMinIdle`,
    /// in a loop of its own so slow maintenance never delays it: a late
    /// refresh would let another consumer take over a live job.
    private func keepRunningJobsClaimed() async {
        let clock = ContinuousClock()
        var next = lanes.map { _ in clock.now }
        while !Task.isCancelled {
            claimProgress.tick()
            for (index, lane) in lanes.enumerated() where clock.now >= next[index] {
                next[index] = clock.now + lane.options.claimMinIdle / 3
                await touch(lane)
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    private func moveDue(_ lane: QueueLane) async {
        do {
            var moved: Int64 = 0
            repeat {
                moved = try await QueueScripts.moveDue.run(
                    on: commands, keys: [lane.keys.delayed, lane.keys.stream],
                    args: [String(QueueLane.nowMs()), "100"]).int ?? 0
            } while moved == 100
        } catch let error as RedisError where error.kind == .server {
            logger.error("moving due retries failed", metadata: ["queue": "\(lane.options.name)", "error": "\(error.message)"])
        } catch {}
    }

    private func touch(_ lane: QueueLane) async {
        let running = lane.inFlightEntries()
        guard !running.isEmpty else { return }
        do {
            let reply = try await QueueScripts.touch.run(
                on: commands,
                keys: [lane.keys.stream] + running.map { lane.keys.job($0.jobID) },
                args: [QueueKeys.group, configuration.consumer, String(lane.options.claimMinIdle.milliseconds)]
                    + running.flatMap { [$0.entryID, JobState.running(consumer: configuration.consumer, entry: $0.entryID)] })
            let lost = reply.array?.compactMap(\.string) ?? []
            if !lost.isEmpty {
                logger.warning("running jobs were taken over by another consumer (this process stalled longer than claim-min-idle)",
                               metadata: ["queue": "\(lane.options.name)", "entries": "\(lost.joined(separator: ","))"])
            }
        } catch {}
    }

    private func trim(_ lane: QueueLane) async {
        let (mode, value): (String, String)
        switch lane.options.trim {
        case .none: return
        case .maxLength(let length): (mode, value) = ("maxlen", String(length))
        case .maxAge(let age): (mode, value) = ("minid", String(QueueLane.nowMs() - age.milliseconds))
        }
        do {
            let trimmed = try await QueueScripts.trim.run(on: commands, keys: [lane.keys.stream],
                                                          args: [QueueKeys.group, mode, value, "10000"]).int ?? 0
            if trimmed > 0 {
                logger.debug("trimmed acknowledged entries", metadata: ["queue": "\(lane.options.name)", "count": "\(trimmed)"])
            }
        } catch let error as RedisError where error.kind == .server {
            logger.error("trimming failed", metadata: ["queue": "\(lane.options.name)", "error": "\(error.message)"])
        } catch {}
    }
}
