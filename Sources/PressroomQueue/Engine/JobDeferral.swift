/// Thrown by a handler that must not run the job *yet* (a shop over its
/// quota): the job goes back to the delayed set for `delay` without using up
/// an attempt, and once it has been deferred for longer than `maxWait` in
/// total it is dead-lettered with `reason`, whose first word (`quota`) is
/// the dead-letter metric's `reason` label.
public struct JobDeferral: Error, Sendable, CustomStringConvertible {
    public let delay: Duration
    public let maxWait: Duration
    /// Why, e.g. `quota: shop 'acme' is over its 120 derive jobs per minute`.
    public let reason: String

    public init(delay: Duration, maxWait: Duration, reason: String) {
        self.delay = delay
        self.maxWait = maxWait
        self.reason = reason
    }

    /// The dead-letter metric label: the reason's text up to its first colon.
    public var reasonClass: String {
        String(reason.prefix { $0 != ":" && $0 != " " })
    }

    public var description: String { "deferred \(delay): \(reason)" }
}
