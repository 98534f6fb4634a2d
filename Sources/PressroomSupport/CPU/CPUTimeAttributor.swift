import Synchronization

/// Attributes the process's CPU time to the jobs that were running while it
/// was spent, so the engine can count `pressroom_job_cpu_seconds_total` per
/// job type (cost per job).
///
/// Approach: at every job start and end the process CPU clock
/// (``ProcessCPUTime/now()``, all threads) is read, and the CPU spent since the
/// previous event is split among the jobs in flight in proportion to their
/// weights. A job alone in the process gets exactly its CPU time (libvips
/// worker threads included); concurrent jobs get a fair share, and the shares
/// always add up to the process CPU spent while jobs ran. CPU spent with no
/// job in flight is kept in ``unattributedCPU``. Give I/O-bound lanes a low
/// weight (e.g. 0.1 for fulfilment) so they do not dilute CPU-bound lanes.
///
/// Reading the process clock is a system call; with `readingInterval` set,
/// it is read at most that often and CPU spent since the last reading goes to
/// the jobs in flight at the next one. Shares of jobs much shorter than the
/// interval are then approximate; the total is still exact.
public final class CPUTimeAttributor: Sendable {
    /// Identifies one running job between ``begin(weight:)`` and ``end(_:)``.
    public struct Token: Hashable, Sendable {
        fileprivate let id: UInt64
    }

    private struct Running {
        var weight: Double
        /// ``State/secondsPerWeight`` when the job began.
        var startShare: Double
    }

    private struct State {
        var nextID: UInt64 = 0
        var running: [UInt64: Running] = [:]
        var totalWeight: Double = 0
        var lastReading: Duration
        var lastReadAt: ContinuousClock.Instant
        var unattributed: Duration = .zero
        /// CPU seconds each unit of weight has been given since start: a job's
        /// share is the growth of this sum while it ran times its weight, so
        /// begin and end are O(1) however many jobs are in flight.
        var secondsPerWeight: Double = 0
    }

    private let state: Mutex<State>
    private let clock: @Sendable () -> Duration
    private let readingInterval: Duration

    /// - Parameters:
    ///   - clock: the CPU clock; tests pass a scripted one.
    ///   - readingInterval: the least wall time between two clock readings.
    public init(clock: @escaping @Sendable () -> Duration = ProcessCPUTime.now, readingInterval: Duration = .zero) {
        self.clock = clock
        self.readingInterval = readingInterval
        self.state = Mutex(State(lastReading: clock(), lastReadAt: .now))
    }

    /// Marks a job as running from now on.
    public func begin(weight: Double = 1) -> Token {
        precondition(weight > 0, "a job's CPU weight must be positive")
        return state.withLock { state in
            advance(&state)
            let id = state.nextID
            state.nextID &+= 1
            state.running[id] = Running(weight: weight, startShare: state.secondsPerWeight)
            state.totalWeight += weight
            return Token(id: id)
        }
    }

    /// Marks the job as finished and returns the CPU time attributed to it.
    public func end(_ token: Token) -> Duration {
        state.withLock { state in
            advance(&state)
            guard let job = state.running.removeValue(forKey: token.id) else { return .zero }
            state.totalWeight = state.running.isEmpty ? 0 : state.totalWeight - job.weight
            let seconds = (state.secondsPerWeight - job.startShare) * job.weight
            return .nanoseconds(Int64((seconds * 1e9).rounded()))
        }
    }

    /// Runs `body` as one job and returns its result with the CPU time it was given.
    public func measure<T>(
        weight: Double = 1,
        _ body: () async throws -> T
    ) async rethrows -> (result: T, cpu: Duration) {
        let token = begin(weight: weight)
        do {
            let result = try await body()
            return (result, end(token))
        } catch {
            _ = end(token)
            throw error
        }
    }

    /// CPU time the process spent while no job was in flight.
    public var unattributedCPU: Duration {
        state.withLock { state in
            advance(&state, force: true)
            return state.unattributed
        }
    }

    /// Number of jobs currently between `begin` and `end`.
    public var inFlight: Int {
        state.withLock { $0.running.count }
    }

    private func advance(_ state: inout State, force: Bool = false) {
        if readingInterval > .zero {
            let wall = ContinuousClock.now
            if !force && wall - state.lastReadAt < readingInterval { return }
            state.lastReadAt = wall
        }
        let now = clock()
        let delta = now - state.lastReading
        state.lastReading = now
        guard delta > .zero else { return }
        guard !state.running.isEmpty else {
            state.unattributed += delta
            return
        }
        let (seconds, attoseconds) = delta.components
        let deltaSeconds = Double(seconds) + Double(attoseconds) / 1e18
        state.secondsPerWeight += deltaSeconds / state.totalWeight
    }
}
