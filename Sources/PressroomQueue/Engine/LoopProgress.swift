import Synchronization

/// When one of the worker's long-running loops last went round. A loop that
/// waits out a Redis outage still goes round (each failed read backs off and
/// tries again), so this tells a live worker from a wedged one: the systemd
/// watchdog's question, which Redis being down must not answer.
public final class LoopProgress: Sendable {
    /// `lane derive`, `maintenance`, `claim refresh`.
    public let name: String
    /// Longest a healthy round may take (its slowest Redis call plus backoff).
    public let limit: Duration
    private let last = Mutex(ContinuousClock.now)

    init(name: String, limit: Duration) {
        self.name = name
        self.limit = limit
    }

    func tick() { last.withLock { $0 = .now } }

    /// Time since the loop last went round.
    public var age: Duration { ContinuousClock.now - last.withLock { $0 } }

    public var isStalled: Bool { age > limit }
}
