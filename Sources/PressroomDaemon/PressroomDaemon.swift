import Foundation
import Logging
import PressroomQueue
import ServiceLifecycle

/// Wires configuration, job handlers and the queue engine into one process.
/// The only place that knows about every other part of Pressroom.
public struct PressroomDaemon: Sendable {
    public let configuration: PressroomConfiguration
    public let logger: Logger

    public init(configuration: PressroomConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Registers a handler for every configured job type this build knows.
    public func makeRegistry() throws -> JobRegistry {
        var registry = JobRegistry()
        for options in configuration.jobTypeOptions {
            switch options.type {
            case SleepJob.type where configuration.diagnostics:
                registry.register(options, handler: SleepJob())
            default:
                throw ConfigurationLoader.Invalid(field: "jobs.\(options.type)", problem: "no handler for job type '\(options.type)' in this build (known: \(SleepJob.type) with diagnostics: true)")
            }
        }
        return registry
    }

    /// Runs until SIGTERM/SIGINT, then drains and returns.
    public func run() async throws {
        let registry = try makeRegistry()
        let worker = QueueWorker(
            configuration: .init(endpoint: try configuration.endpoint, namespace: configuration.redis.namespace,
                                 consumer: configuration.consumerName, queues: configuration.queueOptions,
                                 drainTimeout: configuration.drainTimeout.duration),
            registry: registry,
            logger: logger)
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: worker, successTerminationBehavior: .gracefullyShutdownGroup)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
    }
}
