import Logging
import PressroomAdmin
import ServiceLifecycle

/// Runs the admin server. When it fails (its port is taken by another
/// instance, say), the worker goes on serving jobs: an unbound metrics port is
/// no reason to stop printing. It says so loudly: a critical log line, the
/// worker's notice (in `pressroom status` and systemd's STATUS=). With
/// `admin.required: true` the failure ends the process instead.
struct AdminPortService: Service {
    let server: AdminServer
    let required: Bool
    let report: @Sendable (String) -> Void
    let logger: Logger

    func run() async throws {
        do {
            try await server.run()
        } catch {
            if required { throw error }
            let address = "\(server.configuration.host):\(server.configuration.port)"
            let text = "admin server on \(address) is not running (\(error)); no /metrics, /healthz or /readyz from this process"
            logger.critical("admin server failed; serving jobs without it (set admin.required: true to exit instead)",
                            metadata: ["address": "\(address)", "error": "\(error)"])
            report(text)
            // Returning early would end the whole ServiceGroup.
            try? await gracefulShutdown()
        }
    }
}
