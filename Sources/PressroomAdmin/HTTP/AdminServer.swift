import FlyingFox
import FlyingSocks
import Foundation
import Logging
import ServiceLifecycle

/// The admin HTTP port: `GET /metrics` (Prometheus text), `GET /healthz`
/// (200 while the process runs) and `GET /readyz` (the injected readiness).
///
/// A ServiceLifecycle `Service`: put it early in the daemon's `ServiceGroup`
/// so it outlives the workers on shutdown and `/readyz` can report the drain.
/// On graceful shutdown it stops accepting connections and lets in-flight
/// requests finish for up to ``Configuration/shutdownGrace``.
public final class AdminServer: Service, Sendable {
    /// Where to listen. Loopback by default: the port exposes internals and
    /// has no authentication, so exposing it is an explicit choice.
    public struct Configuration: Sendable {
        /// An IPv4 or IPv6 literal, or `localhost`.
        public var host: String
        /// 0 picks a free port (tests); read it back with ``AdminServer/waitUntilListening(timeout:)``.
        public var port: UInt16
        /// How long open requests may take to finish once shutdown starts.
        public var shutdownGrace: Duration

        public init(host: String = "127.0.0.1", port: UInt16 = 9464, shutdownGrace: Duration = .seconds(2)) {
            self.host = host
            self.port = port
            self.shutdownGrace = shutdownGrace
        }
    }

    public let configuration: Configuration
    private let server: HTTPServer
    private let logger: Logger
    private let stopRequested = StopFlag()

    /// - Parameters:
    ///   - metrics: whose registry `/metrics` renders.
    ///   - readiness: called on every `/readyz`; keep it quick (cached state, a PING).
    ///   - logger: the daemon's logger; the server adds `component=admin`.
    /// - Throws: ``AdminServerError/invalidHost(_:)`` for a host that is not an IP literal.
    public init(
        configuration: Configuration = Configuration(),
        metrics: PressroomMetrics,
        readiness: @escaping @Sendable () async -> Readiness,
        logger: Logger
    ) throws {
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "component"] = "admin"
        self.logger = logger
        let address = try Self.address(host: configuration.host, port: configuration.port)
        let flyingFoxLogger = FlyingFoxLogger(logger: logger, stopping: { [stopRequested] in
            stopRequested.isSet
        })
        self.server = HTTPServer(
            config: HTTPServer.Configuration(address: address, timeout: 15, logger: flyingFoxLogger),
            handler: AdminHTTPHandler(metrics: metrics, readiness: readiness)
        )
    }

    public func run() async throws {
        logger.info(
            "admin server starting",
            metadata: ["host": "\(configuration.host)", "port": "\(configuration.port)"]
        )
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await self.server.run()
                }
                group.addTask {
                    // Returns on graceful shutdown, throws when the task is cancelled.
                    try await gracefulShutdown()
                    self.stopRequested.set()
                    await self.server.stop(timeout: self.configuration.shutdownGrace.timeInterval)
                }
                try await group.next()
                group.cancelAll()
            }
        } catch {
            // Closing the listening socket ends FlyingFox's accept loop with an
            // error; after a requested stop or a cancellation that is the normal end.
            if stopRequested.isSet || Task.isCancelled { return }
            logger.error("admin server failed", metadata: ["error": "\(error)"])
            throw AdminServerError.serverFailed("\(configuration.host):\(configuration.port)", cause: "\(error)")
        }
        logger.info("admin server stopped")
    }

    /// Waits until the socket is bound and returns the port (the real one when
    /// configured with port 0).
    public func waitUntilListening(timeout: Duration = .seconds(30)) async throws -> UInt16 {
        do {
            try await server.waitUntilListening(timeout: timeout.timeInterval)
        } catch {
            throw AdminServerError.notListening("\(configuration.host):\(configuration.port)", cause: "\(error)")
        }
        guard let port = await listeningPort else {
            throw AdminServerError.notListening("\(configuration.host):\(configuration.port)", cause: "socket closed")
        }
        return port
    }

    /// The bound port while listening, `nil` otherwise.
    public var listeningPort: UInt16? {
        get async {
            switch await server.listeningAddress {
            case .ip4(_, let port), .ip6(_, let port): port
            case .unix, nil: nil
            }
        }
    }

    private static func address(host: String, port: UInt16) throws -> any SocketAddress {
        let host = host == "localhost" ? "127.0.0.1" : host
        if host.contains(":") {
            let literal = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
            guard let address = try? sockaddr_in6.inet6(ip6: literal, port: port) else {
                throw AdminServerError.invalidHost(host)
            }
            return address
        }
        guard let address = try? sockaddr_in.inet(ip4: host, port: port) else {
            throw AdminServerError.invalidHost(host)
        }
        return address
    }
}

extension Duration {
    /// FlyingFox takes `TimeInterval`s.
    fileprivate var timeInterval: TimeInterval {
        let (seconds, attoseconds) = components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}
