import Synchronization

/// A one-way "stop reading" flag that sleeping loops notice within
/// `granularity`, without turning a graceful drain into task cancellation.
final class StopSignal: Sendable {
    private let flag = Atomic<Bool>(false)
    private let granularity: Duration

    init(granularity: Duration = .milliseconds(50)) {
        self.granularity = granularity
    }

    var isStopped: Bool { flag.load(ordering: .acquiring) }

    func stop() { flag.store(true, ordering: .releasing) }

    /// Sleeps for `duration`, returning early on stop or cancellation.
    func sleep(_ duration: Duration) async {
        let deadline = ContinuousClock.now + duration
        while !isStopped && !Task.isCancelled && ContinuousClock.now < deadline {
            try? await Task.sleep(for: min(granularity, deadline - ContinuousClock.now))
        }
    }
}
