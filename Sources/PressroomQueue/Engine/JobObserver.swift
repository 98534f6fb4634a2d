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

/// Called after every handler run, before its outcome is recorded; keep it
/// short (it holds the job's slot) and never throw.
public typealias JobObserver = @Sendable (JobRun) async -> Void
