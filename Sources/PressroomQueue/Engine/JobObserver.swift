/// What the engine knows about one finished run of a handler, for callers
/// that charge costs to something the engine does not know (an upload, an
/// order): the CPU time ``PressroomSupport/CPUTimeAttributor`` gave the run.
public struct JobRun: Sendable {
    public enum Outcome: String, Sendable {
        case succeeded, failed, deferred
    }

    public let job: Job
    public let outcome: Outcome
    public let cpu: Duration
    public let duration: Duration
}

/// Called after every handler run: for a success once its completion has
/// gone to the recorder (the slot may already be free), so the observer's
/// work neither holds the slot nor delays the success; for a failure or a
/// deferral before its retry, deferral or dead letter is recorded (it holds
/// the slot then). Keep it short and never throw.
public typealias JobObserver = @Sendable (JobRun) async -> Void

/// A job the engine dead-lettered, whatever the reason (a handler's permanent
/// error, exhausted retries, a timeout on the last attempt, an unknown type,
/// poison on a restart, a deferral past its bound), for callers whose own
/// records must follow it: the queue knows nothing of what the job was for.
public struct DeadLetterNotice: Sendable {
    public let id: String
    public let type: String
    public let queue: String
    /// The dead letter's `dead_reason`.
    public let reason: String
    public let errorClass: JobError.Class

    public init(id: String, type: String, queue: String, reason: String, errorClass: JobError.Class) {
        self.id = id
        self.type = type
        self.queue = queue
        self.reason = reason
        self.errorClass = errorClass
    }
}

/// Called after a dead letter is recorded (never for one another consumer
/// recorded); best effort: a crash right after the dead letter skips it, so
/// whatever it updates needs a sweep of its own as well.
public typealias DeadLetterObserver = @Sendable (DeadLetterNotice) async -> Void
