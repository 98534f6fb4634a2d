/// What `/readyz` reports: the daemon's checks (Redis reachable, consumer
/// groups ready, not draining), each passing or failing with a reason.
///
/// The daemon builds one on every probe so the answer is never stale; the
/// admin server only renders it.
public struct Readiness: Sendable, Equatable, Codable {
    /// One named condition a load balancer or orchestrator can read.
    public struct Check: Sendable, Equatable, Codable {
        public var name: String
        public var ok: Bool
        /// Why the check fails (or what it saw), for the operator.
        public var detail: String?

        public init(name: String, ok: Bool, detail: String? = nil) {
            self.name = name
            self.ok = ok
            self.detail = detail
        }

        public static func passing(_ name: String, detail: String? = nil) -> Check {
            Check(name: name, ok: true, detail: detail)
        }

        public static func failing(_ name: String, detail: String) -> Check {
            Check(name: name, ok: false, detail: detail)
        }
    }

    public var checks: [Check]

    public init(checks: [Check]) {
        self.checks = checks
    }

    /// Ready when every check passes (and vacuously with no checks).
    public var isReady: Bool { checks.allSatisfy(\.ok) }

    /// The checks that fail, in order.
    public var failing: [Check] { checks.filter { !$0.ok } }
}
