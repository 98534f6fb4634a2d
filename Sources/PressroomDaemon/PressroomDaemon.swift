import Dispatch
import Foundation
import Logging
import PressroomAdmin
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
    }

    static let imageJobTypes: Set<String> = [DeriveJob.type, RenderJob.type]

    func loadCatalog() throws -> PolicyCatalog {
        let settings = configuration.imaging
        do {
            return try PolicyCatalog.load(directory: URL(fileURLWithPath: settings.policies),
                                          profilesDirectory: URL(fileURLWithPath: settings.profiles))
        } catch {
            throw ConfigurationLoader.Invalid(field: "imaging.policies", problem: "\(error)")
        }
    }

    func makeStore() throws -> any ObjectStore {
        do {
            return MeteredObjectStore(try makeObjectStore(configuration: configuration.storage, logger: logger),
                                      backend: configuration.storage.backend.rawValue)
        } catch {
            throw ConfigurationLoader.Invalid(field: "storage", problem: "\(error)")
        }
    }

    /// Loads policies, starts libvips and opens the object store, when a
    /// configured job type needs them. Errors name the config field.
    public func makeImageServices(store existing: (any ObjectStore)? = nil) throws -> ImageServices? {
        guard configuration.jobTypeOptions.contains(where: { Self.imageJobTypes.contains($0.type) }) else { return nil }
        let settings = configuration.imaging
        let catalog = try loadCatalog()
        if (try? catalog.policy(named: settings.previewPolicy)) == nil {
            throw ConfigurationLoader.Invalid(field: "imaging.previewPolicy", problem: "no policy named '\(settings.previewPolicy)' in \(settings.policies)")
        }
        let imaging: Imaging
        do {
            imaging = try Imaging(configuration: settings.configuration, logger: logger)
        } catch {
            throw ConfigurationLoader.Invalid(field: "imaging", problem: "\(error)")
        }
        return ImageServices(imaging: imaging, catalog: catalog, store: try existing ?? makeStore())
    }

    /// The vendors, order store and breakers, when vendors are configured.
    /// `afterVendorAnswer` is a test hook (see ``run(metrics:)``).
    public func makeFulfillmentJobs(store existing: (any ObjectStore)? = nil, catalog existingCatalog: PolicyCatalog? = nil) throws -> FulfillmentJobs? {
        guard !configuration.vendors.isEmpty,
              configuration.jobTypeOptions.contains(where: { FulfillmentJobs.types.contains($0.type) }) else { return nil }
        let catalog = try existingCatalog ?? loadCatalog()
        let queue = configuration.jobTypeOptions.first { $0.type == FulfillJob.type }?.queue ?? FulfillmentJobs.queue
        let client = RedisClient(endpoint: try configuration.endpoint, name: "orders")
        var fulfillment: Fulfillment
        do {
            fulfillment = try Fulfillment.make(vendors: configuration.vendors, client: client,
                                               keys: OrderKeys(queue: configuration.keys(forQueue: queue)), metrics: FulfillmentMetrics(),
                                               consumer: configuration.consumerName,
                                               eventsMaxLength: configuration.queues[queue]?.eventsMaxLength ?? 100_000)
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

    /// Registers a handler for every configured job type this build knows.
    public func makeRegistry(images: ImageServices? = nil, fulfillment: FulfillmentJobs? = nil) throws -> JobRegistry {
        var registry = JobRegistry()
        for options in configuration.jobTypeOptions {
            switch options.type {
            case SleepJob.type where configuration.diagnostics:
                registry.register(options, handler: SleepJob())
            case DeriveJob.type where images != nil:
                registry.register(options, handler: DeriveJob(services: images!, settings: configuration.imaging))
            case RenderJob.type where images != nil:
                registry.register(options, handler: RenderJob(services: images!, settings: configuration.imaging))
            case FulfillJob.type where fulfillment != nil:
                registry.register(options, handler: FulfillJob(jobs: fulfillment!))
            case VendorEventJob.type where fulfillment != nil:
                registry.register(options, handler: VendorEventJob(jobs: fulfillment!))
            case ReconcileJob.type where fulfillment != nil:
                registry.register(options, handler: ReconcileJob(jobs: fulfillment!))
            default:
                throw ConfigurationLoader.Invalid(field: "jobs.\(options.type)", problem: "no handler for job type '\(options.type)' in this build (known: derive, render, fulfill/vendor-event/reconcile with vendors configured, and sleep with diagnostics: true)")
            }
        }
        return registry
    }

    /// Runs until SIGTERM/SIGINT, then drains and returns.
    public func run(metrics: PressroomMetrics) async throws {
        let images = try makeImageServices()
        let fulfillment = try makeFulfillmentJobs(store: images?.store, catalog: images?.catalog)
        let registry = try makeRegistry(images: images, fulfillment: fulfillment)
        let notifier = SystemdNotifier()
        let logger = self.logger
        let worker = QueueWorker(
            configuration: .init(endpoint: try configuration.endpoint, namespace: configuration.redis.namespace,
                                 consumer: configuration.consumerName, queues: configuration.queueOptions,
                                 drainTimeout: configuration.drainTimeout.duration),
            registry: registry,
            logger: logger,
            onReady: {
                do { try notifier.ready(status: "ready") } catch { logger.warning("sd_notify READY failed", metadata: ["error": "\(error)"]) }
            },
            onDraining: {
                try? notifier.stopping(status: "draining in-flight jobs")
            })
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        // Admin and watchdog first: shutdown runs in reverse, so they outlive the drain.
        if configuration.admin.enabled {
            let admin = try AdminServer(
                configuration: .init(host: configuration.admin.host, port: UInt16(configuration.admin.port)),
                metrics: metrics,
                readiness: { Self.readiness(of: worker) },
                logger: logger)
            services.append(.init(service: admin))
        }
        services.append(.init(service: WatchdogService(notifier: notifier, isHealthy: { worker.health.isUp && worker.phase != .stopped }, logger: logger)))
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
            try? notifier.status("\(worker.phase.rawValue); in flight: \(counts)")
            try? await Task.sleep(for: .seconds(5))
        }
    }
}

extension Task where Success == Never, Failure == Never {
    static var isCancelledOrShuttingDown: Bool {
        Task.isCancelled || Task.isShuttingDownGracefully
    }
}
