#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Logging
import ServiceLifecycle

/// Sends `WATCHDOG=1` at half of systemd's `WatchdogSec` while the injected
/// health check passes, so systemd restarts a wedged worker (one whose loops
/// stopped making progress) instead of leaving it silently stuck.
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
    private let isHealthy: @Sendable () async -> Bool
    private let logger: Logger

    /// - Parameters:
    ///   - interval: time between pings; `nil` disables the pings. Usually
    ///     ``pingInterval(environment:processID:)``.
    ///   - isHealthy: asked before each ping; `false` skips the ping.
    public init(
        notifier: SystemdNotifier,
        interval: Duration?,
        isHealthy: @escaping @Sendable () async -> Bool,
        logger: Logger
    ) {
        self.notifier = notifier
        self.interval = interval
        self.isHealthy = isHealthy
        self.logger = logger
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
                let nowHealthy = await isHealthy()
                if nowHealthy != healthy {
                    healthy = nowHealthy
                    // Logged once per change, not per tick.
                    if healthy {
                        logger.notice("health check passes again; resuming watchdog pings")
                    } else {
                        logger.error("health check failing; withholding watchdog pings so systemd restarts this worker")
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
