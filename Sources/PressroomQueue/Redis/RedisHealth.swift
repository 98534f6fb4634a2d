import Logging
import Metrics
import Synchronization

/// Shared up/down state of Redis for a process, so an outage is logged once
/// when it starts and once when it ends, not once per failed attempt.
public final class RedisHealth: Sendable {
    private let state = Mutex<(up: Bool, since: ContinuousClock.Instant, lastError: String?)>(
        (true, .now, nil)
    )
    private let logger: Logger
    private let gauge = Gauge(label: "pressroom_redis_up")

    public init(logger: Logger) {
        self.logger = logger
        gauge.record(1)
    }

    public var isUp: Bool { state.withLock { $0.up } }
    public var lastError: String? { state.withLock { $0.lastError } }

    func reportFailure(_ error: RedisError) {
        let changed = state.withLock { state -> Bool in
            state.lastError = error.message
            guard state.up else { return false }
            state.up = false
            state.since = .now
            return true
        }
        if changed {
            gauge.record(0)
            logger.error("redis unreachable; retrying with backoff", metadata: ["error": "\(error.message)"])
        }
    }

    func reportSuccess() {
        let downFor: Duration? = state.withLock { state in
            guard !state.up else { return nil }
            state.up = true
            state.lastError = nil
            let elapsed = ContinuousClock.now - state.since
            state.since = .now
            return elapsed
        }
        if let downFor {
            gauge.record(1)
            logger.notice("redis reachable again", metadata: ["down_for": "\(downFor)"])
        }
    }
}
