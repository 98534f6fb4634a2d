#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Logging
import ServiceLifecycle

/// Sends `WATCHDOG=1` at half of systemd's `WatchdogSec` while the injected
/// liveness check passes, so systemd restarts a wedged worker (one whose loops
/// stopped making progress) instead of leaving it silently stuck. Liveness is
/// not readiness: a worker waiting out a Redis outage is alive and keeps
/// pinging (`/readyz` reports Redis), or an outage longer than `WatchdogSec`
/// would have systemd kill the whole fleet.
///
/// When the watchdog is not enabled for this process (no `WATCHDOG_USEC`, or
/// `WATCHDOG_PID` names another process) it idles until shutdown, because a
/// service that returns early would end the whole `ServiceGroup`.
///
/// Place it before the workers in the `ServiceGroup`: shutdown runs in reverse
/// order, so it keeps pinging while the workers drain.
public struct WatchdogService: Service {
    private let notifier: SystemdNotifier
    private let interval: Duration?
    private let problem: @Sendable () async -> String?
    private let logger: Logger

    /// - Parameters:
    ///   - interval: time between pings; `nil` disables the pings. Usually
    ///     ``pingInterval(environment:processID:)``.
    ///   - problem: asked before each ping; a reason (what is wedged) skips
    ///     the ping and is logged once, `nil` pings.
    public init(
        notifier: SystemdNotifier,
        interval: Duration?,
        problem: @escaping @Sendable () async -> String?,
        logger: Logger
    ) {
        self.notifier = notifier
        self.interval = interval
        self.problem = problem
        self.logger = logger
    }

    /// - Parameter isHealthy: asked before each ping; `false` skips the ping.
    public init(
        notifier: SystemdNotifier,
        interval: Duration?,
        isHealthy: @escaping @Sendable () async -> Bool,
        logger: Logger
    ) {
        self.init(notifier: notifier, interval: interval, problem: { await isHealthy() ? nil : "health check failing" }, logger: logger)
    }

    /// Reads the interval from the process environment (`WATCHDOG_USEC`, `WATCHDOG_PID`).
    public init(
        notifier: SystemdNotifier,
        problem: @escaping @Sendable () async -> String?,
        logger: Logger
    ) {
        self.init(
            notifier: notifier,
            interval: Self.pingInterval(environment: ProcessInfo.processInfo.environment, processID: getpid()),
            problem: problem,
            logger: logger
        )
    }

    /// Reads the interval from the process environment (`WATCHDOG_USEC`, `WATCHDOG_PID`).
    public init(
        notifier: SystemdNotifier,
        isHealthy: @escaping @Sendable () async -> Bool,
        logger: Logger
    ) {
        self.init(
            notifier: notifier,
            interval: Self.pingInterval(environment: ProcessInfo.processInfo.environment, processID: getpid()),
            isHealthy: isHealthy,
            logger: logger
        )
    }

    /// Half of `WATCHDOG_USEC`, as sd_watchdog_enabled(3) recommends; `nil` when
    /// the variable is missing, not a positive number, or `WATCHDOG_PID` is set
    /// to a process other than `processID`.
    public static func pingInterval(environment: [String: String], processID: pid_t) -> Duration? {
        guard let usecText = environment["WATCHDOG_USEC"], let usec = UInt64(usecText), usec > 0 else {
            return nil
        }
        if let pidText = environment["WATCHDOG_PID"], !pidText.isEmpty {
            guard let pid = pid_t(pidText), pid == processID else { return nil }
        }
        return .microseconds(Int64(clamping: usec / 2))
    }

    public func run() async throws {
        guard let interval, notifier.isEnabled else {
            logger.debug("systemd watchdog not enabled for this process")
            try? await gracefulShutdown()
            return
        }
        logger.info("systemd watchdog enabled", metadata: ["interval": "\(interval)"])
        await cancelWhenGracefulShutdown {
            var healthy = true
            while !Task.isCancelled {
                let found = await problem()
                if (found == nil) != healthy {
                    healthy = found == nil
                    // Logged once per change, not per tick.
                    if let found {
                        logger.error("withholding watchdog pings so systemd restarts this worker", metadata: ["problem": "\(found)"])
                    } else {
                        logger.notice("liveness check passes again; resuming watchdog pings")
                    }
                }
                if healthy {
                    do throws(SystemdNotifyError) {
                        try notifier.watchdog()
                    } catch {
                        logger.warning(
                            "watchdog ping failed",
                            metadata: ["error": "\(error)", "transient": "\(error.isTransient)"]
                        )
                    }
                }
                do {
                    try await Task.sleep(for: interval)
                } catch {
                    return
                }
            }
        }
    }
}
