import Synchronization

/// Counts a lane's free job slots; the fetch loop waits here instead of
/// reading more entries than it can run.
final class LaneSlots: Sendable {
    private struct State {
        var free: Int
        var waiters: [(atLeast: Int, continuation: CheckedContinuation<Void, Never>)] = []
    }

    private let state: Mutex<State>
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        self.state = Mutex(State(free: capacity))
    }

    var free: Int { state.withLock { $0.free } }
    var inUse: Int { capacity - free }

    /// Takes `count` slots the caller knows are free.
    func take(_ count: Int) {
        state.withLock { $0.free -= count }
    }

    func release(_ count: Int = 1) {
        let ready = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.free += count
            if state.waiters.isEmpty { return [] }
            let free = state.free
            let ready = state.waiters.filter { $0.atLeast <= free }.map(\.continuation)
            state.waiters.removeAll { $0.atLeast <= free }
            return ready
        }
        for waiter in ready { waiter.resume() }
    }

    /// Returns when `atLeast` slots are free, or after `timeout` (so a stop is
    /// noticed, and so a lane never waits long for a batch to fill).
    func waitForFree(atLeast: Int = 1, timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    let ready = self.state.withLock { state -> Bool in
                        if state.free >= atLeast { return true }
                        state.waiters.append((atLeast, continuation))
                        return false
                    }
                    if ready { continuation.resume() }
                }
            }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
            // The continuation task cannot be cancelled; wake it so the group ends.
            self.wakeAll()
        }
    }

    private func wakeAll() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            defer { state.waiters = [] }
            return state.waiters.map(\.continuation)
        }
        for waiter in waiters { waiter.resume() }
    }
}
