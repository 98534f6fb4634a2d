import Synchronization

/// Counts a queue's free job slots in this process; the fetch loops wait
/// here instead of reading more entries than they can run. The lanes of a
/// partitioned queue share one, and reserve slots before each read (first
/// come, first served), so the queue's concurrency holds and no partition's
/// lane waits behind a busier one for ever.
final class LaneSlots: Sendable {
    private struct Reservation {
        let id: Int
        let wanted: Int
        let continuation: CheckedContinuation<Int, Never>
    }

    private struct State {
        var free: Int
        /// Slots reserved for reads in flight: neither free nor running a job.
        var reserved = 0
        var waiters: [(atLeast: Int, continuation: CheckedContinuation<Void, Never>)] = []
        /// Lanes waiting to reserve, oldest first.
        var queue: [Reservation] = []
        var nextID = 0
        /// Reservations that timed out before they asked.
        var withdrawn: Set<Int> = []
        /// Reservations that asked and are not over yet.
        var asked: Set<Int> = []
    }

    private let state: Mutex<State>
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        self.state = Mutex(State(free: capacity))
    }

    var free: Int { state.withLock { $0.free } }
    /// Slots running jobs (reserved ones excluded).
    var inUse: Int { state.withLock { capacity - $0.free - $0.reserved } }
    /// Lanes in line to reserve.
    var waiting: Int { state.withLock { $0.queue.count } }

    /// Reserves up to `count` free slots now, without waiting, unless lanes
    /// are waiting to reserve (they go first). Returns how many.
    func reserveNow(upTo count: Int) -> Int {
        state.withLock { state in
            guard state.queue.isEmpty else { return 0 }
            let taken = min(max(0, count), state.free)
            state.free -= taken
            state.reserved += taken
            return taken
        }
    }

    /// Reserves up to `wanted` slots for a read, waiting up to `timeout`
    /// in line when none is free. Returns how many (0 after the timeout).
    func reserve(upTo wanted: Int, timeout: Duration) async -> Int {
        // Slots free and nobody in line (always so for a lone lane): no waiting machinery.
        let now = reserveNow(upTo: wanted)
        if now > 0 { return now }
        let id = state.withLock { state -> Int in
            state.nextID += 1
            return state.nextID
        }
        defer { _ = state.withLock { $0.asked.remove(id) } }
        return await withTaskGroup(of: Int?.self) { group in
            group.addTask {
                await withCheckedContinuation { (continuation: CheckedContinuation<Int, Never>) in
                    let granted = self.state.withLock { state -> Int? in
                        if state.withdrawn.remove(id) != nil { return 0 }
                        state.asked.insert(id)
                        if state.queue.isEmpty && state.free > 0 {
                            let count = min(wanted, state.free)
                            state.free -= count
                            state.reserved += count
                            return count
                        }
                        state.queue.append(Reservation(id: id, wanted: wanted, continuation: continuation))
                        return nil
                    }
                    if let granted { continuation.resume(returning: granted) }
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            while let result = await group.next() {
                if let granted = result {
                    group.cancelAll()
                    return granted
                }
                // Timed out: leave the line (or never join it); a grant that
                // raced the timeout still arrives through the first task.
                let waiting = state.withLock { state -> CheckedContinuation<Int, Never>? in
                    if let index = state.queue.firstIndex(where: { $0.id == id }) {
                        return state.queue.remove(at: index).continuation
                    }
                    if !state.asked.contains(id) { state.withdrawn.insert(id) }
                    return nil
                }
                waiting?.resume(returning: 0)
            }
            return 0
        }
    }

    /// Reserved slots that now run jobs.
    func commit(_ count: Int) {
        guard count > 0 else { return }
        state.withLock { $0.reserved -= count }
    }

    /// Reserved slots a read did not fill.
    func unreserve(_ count: Int) {
        guard count > 0 else { return }
        free(count, reserved: count)
    }

    func release(_ count: Int = 1) {
        free(count, reserved: 0)
    }

    private func free(_ count: Int, reserved: Int) {
        var granted: [(CheckedContinuation<Int, Never>, Int)] = []
        let ready = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.reserved -= reserved
            state.free += count
            while state.free > 0, !state.queue.isEmpty {
                let next = state.queue.removeFirst()
                let share = min(next.wanted, state.free)
                state.free -= share
                state.reserved += share
                granted.append((next.continuation, share))
            }
            if state.waiters.isEmpty { return [] }
            let free = state.free
            let ready = state.waiters.filter { $0.atLeast <= free }.map(\.continuation)
            state.waiters.removeAll { $0.atLeast <= free }
            return ready
        }
        for (waiter, share) in granted { waiter.resume(returning: share) }
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
