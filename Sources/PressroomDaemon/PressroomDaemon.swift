import Dispatch
import Foundation
import Logging
import PressroomAdmin
import PressroomConsole
import PressroomFulfillment
import PressroomImaging
import PressroomQueue
import PressroomStorage
import ServiceLifecycle

/// Wires configuration, job handlers, the queue engine, the admin port and
/// systemd into one process. The only place that knows every part of Pressroom.
public struct PressroomDaemon: Sendable {
    public let configuration: PressroomConfiguration
    public let logger: Logger

    public init(configuration: PressroomConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Installs logging and metrics backends. Must run before any engine
    /// object exists: metric handles made earlier stay on the no-op backend.
    public static func bootstrap(_ configuration: PressroomConfiguration) -> PressroomMetrics {
        PressroomLogging.bootstrap(format: LogFormat(rawValue: configuration.log.format) ?? .logfmt,
                                   level: Logger.Level(rawValue: configuration.log.level) ?? .info)
        let metrics = PressroomMetrics()
        _ = metrics.bootstrap()
        return metrics
    }

    /// What the image jobs need, built once per process.
    public struct ImageServices: Sendable {
        public let imaging: Imaging
        public let catalog: PolicyCatalog
        public let store: any ObjectStore
        /// Size check, quota, scan and write lease around every source.
        let intake: SourceIntake
        /// Where a render's stored bytes are charged to its order.
        let orders: OrderCostLedger
    }

    /// Uploads' lifecycle: records, scanning, quotas, erasure and the sweep.
    public struct LifecycleServices: Sendable {
        let ledger: UploadLedger
        /// Orders' costs, beside their records.
        let orders: OrderCostLedger
        let store: any ObjectStore
        let scan: ScanGate?
        let quota: QuotaGate?
        let eraser: UploadEraser
        let costs: CostRecorder

        /// Closes the Redis connection it holds.
        public func shutdown() { ledger.client.shutdown() }
    }

    static let imageJobTypes: Set<String> = [DeriveJob.type, RenderJob.type]
    static let storeJobTypes: Set<String> = imageJobTypes.union([EraseJob.type, SweepJob.type, OrderJob.type])

    /// The object store every job shares, metered.
    func makeStore() throws -> any ObjectStore {
        do {
            return MeteredObjectStore(try makeObjectStore(configuration: configuration.storage, logger: logger),
                                      backend: configuration.storage.backend.rawValue)
        } catch {
            throw ConfigurationLoader.Invalid(field: "storage", problem: "\(error)")
        }
    }

    /// Opens the store and a Redis connection for upload records, scanning
    /// and quotas, when a configured job type needs them.
    public func makeLifecycleServices(store existing: (any ObjectStore)? = nil) throws -> LifecycleServices? {
        guard configuration.jobTypeOptions.contains(where: { Self.storeJobTypes.contains($0.type) }) || !configuration.quotas.isEmpty else { return nil }
        let store = try existing ?? makeStore()
        let client = RedisClient(topology: try configuration.redisTopology, name: "lifecycle")
        let ledger = UploadLedger(namespace: configuration.redis.namespace, client: client, retention: configuration.retention)
        var scan: ScanGate?
        if let settings = configuration.scan {
            do {
                scan = try ScanGate(settings: settings, ledger: ledger, store: store, events: client, namespace: configuration.redis.namespace,
                                    eventsMaxLength: configuration.queues.mapValues(\.eventsMaxLength))
            } catch {
                throw ConfigurationLoader.Invalid(field: "scan.address", problem: "\(error)")
            }
        }
        let quota = configuration.quotas.isEmpty ? nil : QuotaGate(settings: configuration.quotas, client: client, namespace: configuration.redis.namespace)
        let eraser = UploadEraser(store: store, ledger: ledger, imaging: configuration.imaging,
                                  quarantinePrefix: configuration.scan.map(\.quarantinePrefix), retention: configuration.retention)
        let orders = OrderCostLedger(client: client, keys: configuration.orderKeys)
        return LifecycleServices(ledger: ledger, orders: orders, store: store, scan: scan, quota: quota, eraser: eraser,
                                 costs: CostRecorder(ledger: ledger, orders: orders, logger: logger))
    }

    func loadCatalog() throws -> PolicyCatalog {
        let settings = configuration.imaging
        do {
            return try PolicyCatalog.load(directory: URL(fileURLWithPath: settings.policies),
                                          profilesDirectory: URL(fileURLWithPath: settings.profiles))
        } catch {
            throw ConfigurationLoader.Invalid(field: "imaging.policies", problem: "\(error)")
        }
    }

    /// The vendors, order store and breakers, when vendors are configured.
    /// `client` is a connection to share (the worker passes the lifecycle's:
    /// a fulfil ticket's order steps and its cost then go over one
    /// connection and thread, batched together, instead of two).
    /// Honours the test-only `PRESSROOM_TEST_CRASH_AFTER_VENDOR_ANSWER`.
    public func makeFulfillmentJobs(store existing: (any ObjectStore)? = nil, catalog existingCatalog: PolicyCatalog? = nil,
                                    client existingClient: RedisClient? = nil) throws -> FulfillmentJobs? {
        guard !configuration.vendors.isEmpty,
              configuration.jobTypeOptions.contains(where: { FulfillmentJobs.types.contains($0.type) }) else { return nil }
        let catalog = try existingCatalog ?? loadCatalog()
        let queue = configuration.fulfilQueue
        let client = try existingClient ?? RedisClient(topology: try configuration.redisTopology, name: "orders")
        // The sandbox vendor's simulated webhooks arrive as delayed vendor-event jobs.
        let eventQueue = configuration.partitions(ofQueue: configuration.jobTypeOptions.first { $0.type == VendorEventJob.type }?.queue ?? queue)
        let sandboxUpdates: SandboxAdapter.Deliver = { update in
            try await QueueAdmin.enqueue(partitions: eventQueue, client: client, id: update.jobID, type: VendorEventJob.type,
                                         payload: update.payload, notBefore: update.notBefore)
        }
        var fulfillment: Fulfillment
        do {
            fulfillment = try Fulfillment.make(vendors: configuration.vendors, client: client,
                                               keys: configuration.orderKeys, metrics: FulfillmentMetrics(),
                                               consumer: configuration.consumerName,
                                               eventsMaxLength: configuration.queues[queue]?.eventsMaxLength ?? 100_000,
                                               sandboxUpdates: sandboxUpdates)
        } catch {
            throw ConfigurationLoader.Invalid(field: "vendors", problem: "\(error)")
        }
        // Test-only: SIGKILL this process right after a vendor's answer and
        // before it is recorded, to prove that window loses nothing.
        if let vendor = ProcessInfo.processInfo.environment["PRESSROOM_TEST_CRASH_AFTER_VENDOR_ANSWER"], !vendor.isEmpty {
            fulfillment.afterVendorAnswer = { name in
                if name == vendor { kill(getpid(), SIGKILL) }
            }
        }
        return FulfillmentJobs(fulfillment: fulfillment, store: try existing ?? makeStore(),
                               products: Set(catalog.products.map(\.name)), settings: configuration.fulfillment)
    }

    /// Loads policies, starts libvips and opens the object store, when a
    /// configured job type needs them. Errors name the config field.
    public func makeImageServices(lifecycle: LifecycleServices? = nil) throws -> ImageServices? {
        guard configuration.jobTypeOptions.contains(where: { Self.imageJobTypes.contains($0.type) }) else { return nil }
        guard let lifecycle = try lifecycle ?? makeLifecycleServices() else { return nil }
        let settings = configuration.imaging
        let catalog: PolicyCatalog
        do {
            catalog = try PolicyCatalog.load(directory: URL(fileURLWithPath: settings.policies),
                                             profilesDirectory: URL(fileURLWithPath: settings.profiles))
        } catch {
            throw ConfigurationLoader.Invalid(field: "imaging.policies", problem: "\(error)")
        }
        if (try? catalog.policy(named: settings.previewPolicy)) == nil {
            throw ConfigurationLoader.Invalid(field: "imaging.previewPolicy", problem: "no policy named '\(settings.previewPolicy)' in \(settings.policies)")
        }
        let imaging: Imaging
        do {
            imaging = try Imaging(configuration: settings.configuration, logger: logger)
        } catch {
            throw ConfigurationLoader.Invalid(field: "imaging", problem: "\(error)")
        }
        // Masters and spooled sources a SIGKILLed render left in the spool directory;
        // an hour is longer than any render's timeout, so a live process's file is safe.
        let stale = Imaging.removeStaleSpoolFiles(in: settings.configuration.spoolDirectory, olderThan: .seconds(3600))
        if stale > 0 { logger.notice("removed spool files (masters, sources) left by an interrupted render", metadata: ["files": "\(stale)"]) }
        let intake = SourceIntake(store: lifecycle.store, settings: settings, ledger: lifecycle.ledger, scan: lifecycle.scan, quota: lifecycle.quota)
        return ImageServices(imaging: imaging, catalog: catalog, store: lifecycle.store, intake: intake, orders: lifecycle.orders)
    }

    /// Registers a handler for every configured job type this build knows.
    public func makeRegistry(images: ImageServices? = nil, lifecycle: LifecycleServices? = nil, fulfillment: FulfillmentJobs? = nil) throws -> JobRegistry {
        var registry = JobRegistry()
        for options in configuration.jobTypeOptions {
            switch options.type {
            case SleepJob.type where configuration.diagnostics:
                registry.register(options, handler: QuotaGated(handler: SleepJob(), quota: lifecycle?.quota))
            case DeriveJob.type where images != nil:
                registry.register(options, handler: DeriveJob(services: images!, settings: configuration.imaging))
            case RenderJob.type where images != nil:
                registry.register(options, handler: RenderJob(services: images!, settings: configuration.imaging,
                                                              workflow: makeWorkflow(lifecycle: lifecycle), maxAttempts: options.retry.maxAttempts))
            case EraseJob.type where lifecycle != nil:
                registry.register(options, handler: EraseJob(eraser: lifecycle!.eraser, ledger: lifecycle!.ledger, imaging: configuration.imaging,
                                                             namespace: configuration.redis.namespace, auditMaxLength: configuration.retention.auditMaxLength))
            case SweepJob.type where lifecycle != nil:
                registry.register(options, handler: makeSweep(lifecycle!))
            case OrderJob.type where fulfillment != nil && lifecycle != nil:
                registry.register(options, handler: OrderJob(jobs: fulfillment!, workflow: makeWorkflow(lifecycle: lifecycle)!, imaging: configuration.imaging,
                                                             images: images))
            case FulfillJob.type where fulfillment != nil:
                registry.register(options, handler: FulfillJob(jobs: fulfillment!))
            case VendorEventJob.type where fulfillment != nil:
                registry.register(options, handler: VendorEventJob(jobs: fulfillment!))
            case ReconcileJob.type where fulfillment != nil:
                registry.register(options, handler: ReconcileJob(jobs: fulfillment!, workflow: makeWorkflow(lifecycle: lifecycle)))
            default:
                throw ConfigurationLoader.Invalid(field: "jobs.\(options.type)", problem: "no handler for job type '\(options.type)' in this build (known: derive, render, erase, sweep, fulfill/vendor-event/reconcile with vendors configured, and sleep with diagnostics: true)")
            }
        }
        return registry
    }

    /// The order workflow's steps (fan-out, fan-in, failure) over the
    /// order records in the fulfil queue's slot; needs no vendors, so render
    /// workers without a vendors file fan in too.
    func makeWorkflow(lifecycle: LifecycleServices?) -> OrderWorkflow? {
        guard let lifecycle else { return nil }
        let fulfil = configuration.fulfilQueue
        let render = configuration.jobTypeOptions.first { $0.type == RenderJob.type }?.queue ?? "render"
        let store = OrderStore(client: lifecycle.ledger.client, keys: configuration.orderKeys, machine: .workflow,
                               eventsMaxLength: configuration.queues[fulfil]?.eventsMaxLength ?? 100_000)
        return OrderWorkflow(store: store, renderQueue: configuration.partitions(ofQueue: render), ledger: lifecycle.ledger)
    }

    func makeSweep(_ lifecycle: LifecycleServices) -> SweepJob {
        SweepJob(eraser: lifecycle.eraser, ledger: lifecycle.ledger, retention: configuration.retention,
                 prefixes: configuration.retention.prefixes ?? configuration.imaging.sourcePrefixes,
                 namespace: configuration.redis.namespace, consumer: configuration.consumerName)
    }

    /// `pressroom sweep --dry-run`: what the sweep would delete now, deleting nothing.
    public func sweepDryRun(limit: Int?) async throws -> Data {
        guard let lifecycle = try makeLifecycleServices() ?? makeLifecycleServicesForCommands() else {
            throw ConfigurationLoader.Invalid(field: "jobs", problem: "no store configured")
        }
        defer { lifecycle.shutdown() }
        let report = try await makeSweep(lifecycle).sweep(dryRun: true, limit: limit, jobID: "dry-run", logger: logger)
        let encoder = JSONEncoder.sorted
        encoder.outputFormatting.insert(.prettyPrinted)
        encoder.dateEncodingStrategy = .iso8601
        return try encoder.encode(report)
    }

    /// Runs a sweep in this process (benchmarks, one-off operator runs) and returns its JSON report.
    public func sweepNow(jobID: String, limit: Int? = nil) async throws -> Data {
        guard let lifecycle = try makeLifecycleServices() ?? makeLifecycleServicesForCommands() else {
            throw ConfigurationLoader.Invalid(field: "jobs", problem: "no store configured")
        }
        defer { lifecycle.shutdown() }
        return try JSONEncoder.sorted.encode(try await makeSweep(lifecycle).sweep(dryRun: false, limit: limit, jobID: jobID, logger: logger))
    }

    /// An upload's lifecycle record (sha256, outputs' bytes, CPU seconds, order use), for `pressroom upload show`.
    public func uploadRecord(_ key: String) async throws -> [String: String] {
        let client = RedisClient(topology: try configuration.redisTopology, name: "upload-show")
        defer { client.shutdown() }
        let ledger = UploadLedger(namespace: configuration.redis.namespace, client: client, retention: configuration.retention)
        var record = try await ledger.record(upload: key)
        if !record.isEmpty {
            record["outputs"] = String(try await client.call(["SCARD", ledger.keys.outputs(key)]).int ?? 0)
        }
        if let tombstone = try await client.call(["GET", ledger.keys.tombstone(key)]).string {
            record["erased"] = UploadLedger.tombstoneReason(tombstone)
        }
        return record
    }

    /// The cost rolled up for an order (renders and other runs that named it), for `pressroom cost order` (and `order show` once orders land).
    public func orderCost(_ order: String) async throws -> [String: String] {
        let client = RedisClient(topology: try configuration.redisTopology, name: "order-show")
        defer { client.shutdown() }
        return try await OrderCostLedger(client: client, keys: configuration.orderKeys).cost(order: order)
    }

    /// Refuses an evicting Redis (it silently drops jobs) and warns when
    /// persistence is off. A Redis that is down at start is not refused: the
    /// worker retries it as it does any outage, and the check says so.
    func checkRedisServer() async throws {
        let topology = try configuration.redisTopology
        let client = RedisClient(topology: topology, name: "server-check")
        defer { client.shutdown() }
        let report: RedisTopologyReport
        do {
            // Every master of a cluster: one evicting shard drops that shard's jobs.
            report = try await RedisTopologyReport.fetch(topology: topology, client: client)
            if case .sentinel(let sentinel) = topology {
                let view = try await RedisSentinel.shared(for: sentinel).view()
                logger.info("\(view.summary)")
                if let warning = view.warning { logger.warning("\(warning)") }
            }
        } catch let error as RedisError where error.kind == .connection {
            logger.warning("redis does not answer at start; its eviction policy and persistence are unchecked",
                           metadata: ["error": "\(error.message)"])
            return
        }
        if let refusal = report.refusal {
            throw ConfigurationLoader.Invalid(field: "redis", problem: refusal)
        }
        for warning in report.warnings { logger.warning("\(warning)") }
    }

    private func makeLifecycleServicesForCommands() throws -> LifecycleServices? {
        var c = configuration
        c.jobs[SweepJob.type] = .init(queue: c.queues.keys.sorted().first ?? "derive")
        return try PressroomDaemon(configuration: c, logger: logger).makeLifecycleServices()
    }

    /// Runs until SIGTERM/SIGINT, then drains and returns.
    public func run(metrics: PressroomMetrics) async throws {
        try await checkRedisServer()
        let lifecycle = try makeLifecycleServices()
        defer { lifecycle?.shutdown() }
        if let scan = lifecycle?.scan {
            // Not fatal: clamd may start after us; scans fail transiently until it answers.
            do {
                try await scan.client.ping()
            } catch {
                logger.warning("clamd does not answer yet; sources stay unscanned (and underived) until it does",
                               metadata: ["address": "\(scan.settings.address)", "error": "\(error)"])
            }
        }
        let images = try makeImageServices(lifecycle: lifecycle)
        let fulfillment = try makeFulfillmentJobs(store: images?.store ?? lifecycle?.store, catalog: images?.catalog, client: lifecycle?.ledger.client)
        let registry = try makeRegistry(images: images, lifecycle: lifecycle, fulfillment: fulfillment)
        var observer: JobObserver?
        var deadLetterObserver: DeadLetterObserver?
        if let workflow = makeWorkflow(lifecycle: lifecycle) {
            // Whatever dead-letters an order line's render fails its order (docs/orders.md).
            let logger = self.logger
            deadLetterObserver = { notice in await workflow.deadLettered(notice, logger: logger) }
        }
        if let costs = lifecycle?.costs {
            observer = { run in await costs.observe(run) }
        }
        let notifier = SystemdNotifier()
        let logger = self.logger
        var workerConfiguration = QueueWorker.Configuration(
            topology: try configuration.redisTopology, namespace: configuration.redis.namespace,
            consumer: configuration.consumerName, queues: configuration.queueOptions,
            drainTimeout: configuration.drainTimeout.duration)
        workerConfiguration.version = ConsoleSource.defaultVersion
        // Test-only: wedge one lane's loop, to prove the watchdog notices.
        workerConfiguration.wedgeQueueForTesting = ProcessInfo.processInfo.environment["PRESSROOM_TEST_WEDGE_LANE"].flatMap { $0.isEmpty ? nil : $0 }
        let worker = QueueWorker(
            configuration: workerConfiguration,
            registry: registry,
            logger: logger,
            onReady: {
                do { try notifier.ready(status: "ready") } catch { logger.warning("sd_notify READY failed", metadata: ["error": "\(error)"]) }
            },
            onDraining: {
                try? notifier.stopping(status: "draining in-flight jobs")
            },
            observer: observer, deadLetterObserver: deadLetterObserver)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        // Admin and watchdog first: shutdown runs in reverse, so they outlive the drain.
        let consoleClient = configuration.admin.enabled && configuration.admin.console.enabled
            ? RedisClient(topology: try configuration.redisTopology, name: "console") : nil
        defer { consoleClient?.shutdown() }
        if configuration.admin.enabled {
            let admin = try AdminServer(
                configuration: .init(host: configuration.admin.host, port: UInt16(configuration.admin.port)),
                metrics: metrics,
                readiness: { Self.readiness(of: worker) },
                console: try consoleClient.map { try makeConsole(client: $0) },
                logger: logger)
            // A required port that fails drains the worker (its jobs stay pending) and exits non-zero.
            services.append(.init(service: AdminPortService(server: admin, required: configuration.admin.required,
                                                            report: { worker.notice = $0 }, logger: logger),
                                  failureTerminationBehavior: .gracefullyShutdownGroup))
        }
        services.append(.init(service: WatchdogService(notifier: notifier, problem: { Self.livenessProblem(of: worker) }, logger: logger)))
        services.append(.init(service: SystemdStatusReporter(worker: worker, notifier: notifier)))
        if let fulfillment {
            services.append(.init(service: FulfillmentGaugeSampler(fulfillment: fulfillment.fulfillment,
                                                                   interval: configuration.fulfillment.gaugeInterval.duration, logger: logger)))
        }
        services.append(.init(service: worker, successTerminationBehavior: .gracefullyShutdownGroup))
        let group = ServiceGroup(configuration: .init(services: services, logger: logger))
        // Our own signal sources, installed before anything can report ready:
        // a SIGTERM that arrives right after READY=1 must drain, never kill.
        let signals = [SIGTERM, SIGINT].map { number -> DispatchSourceSignal in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                logger.notice("signal received; shutting down gracefully", metadata: ["signal": "\(number == SIGTERM ? "SIGTERM" : "SIGINT")"])
                Task { await group.triggerGracefulShutdown() }
            }
            source.resume()
            return source
        }
        defer { signals.forEach { $0.cancel() } }
        try await group.run()
    }

    /// The watchdog's question: is this process alive and do its loops go
    /// round? Not whether Redis is up (that is readiness): workers ride out
    /// outages by themselves and must not be killed for waiting.
    static func livenessProblem(of worker: QueueWorker) -> String? {
        if worker.phase == .stopped { return "the worker stopped" }
        let stalled = worker.stalledLoops
        guard !stalled.isEmpty else { return nil }
        return stalled.map { "\($0.name) has not gone round for \(DurationText($0.age)) (limit \(DurationText($0.limit)))" }.joined(separator: "; ")
    }

    /// The operator console over this deployment's queues (and orders, when fulfilment runs).
    func makeConsole(client: RedisClient) throws -> ConsoleHandler {
        try configuration.admin.console.validate(host: configuration.admin.host)
        let ordersQueue = configuration.jobTypeOptions.first { $0.type == FulfillJob.type }?.queue
        let source = ConsoleSource(namespace: configuration.redis.namespace, queues: configuration.queueOptions.map(\.name), client: client,
                                   ordersQueue: ordersQueue, version: ConsoleSource.defaultVersion,
                                   eventsMaxLength: configuration.queueOptions.map(\.eventsMaxLength).max() ?? 100_000,
                                   partitions: configuration.queueOptions.map { $0.partitioning(namespace: configuration.redis.namespace) })
        return try ConsoleHandler(settings: configuration.admin.console.settings, source: source, logger: logger)
    }

    static func readiness(of worker: QueueWorker) -> Readiness {
        var checks: [Readiness.Check] = []
        checks.append(worker.health.isUp ? .passing("redis") : .failing("redis", detail: worker.health.lastError ?? "unreachable"))
        switch worker.phase {
        case .ready: checks.append(.passing("consumer-groups"))
        case .starting: checks.append(.failing("consumer-groups", detail: "starting: consumer name and groups not ready yet"))
        case .draining: checks.append(.failing("draining", detail: "shutting down: no new jobs are read"))
        case .stopped: checks.append(.failing("draining", detail: "stopped"))
        }
        return Readiness(checks: checks)
    }
}

/// Samples orders per state and vendor breakers into gauges.
struct FulfillmentGaugeSampler: Service, CustomStringConvertible {
    let fulfillment: Fulfillment
    let interval: Duration
    let logger: Logger

    var description: String { "FulfillmentGaugeSampler(every \(DurationText(interval)))" }

    func run() async throws {
        var failing = false
        while !Task.isCancelledOrShuttingDown {
            do {
                try await fulfillment.sampleGauges()
                failing = false
            } catch {
                if !failing { logger.warning("sampling order gauges failed", metadata: ["error": "\(error)"]) }
                failing = true
            }
            try? await Task.sleep(for: interval)
        }
    }
}

/// Sends STATUS= lines with in-flight counts while the worker runs.
struct SystemdStatusReporter: Service {
    let worker: QueueWorker
    let notifier: SystemdNotifier

    func run() async throws {
        guard notifier.isEnabled else {
            try? await gracefulShutdown()
            return
        }
        while !Task.isCancelledOrShuttingDown {
            let counts = worker.inFlight.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            let redis = worker.health.isUp ? "" : "; redis unreachable, retrying"
            let notice = worker.notice.map { "; WARNING: \($0)" } ?? ""
            try? notifier.status("\(worker.phase.rawValue)\(redis); in flight: \(counts)\(notice)")
            try? await Task.sleep(for: .seconds(5))
        }
    }
}

extension Task where Success == Never, Failure == Never {
    static var isCancelledOrShuttingDown: Bool {
        Task.isCancelled || Task.isShuttingDownGracefully
    }
}
