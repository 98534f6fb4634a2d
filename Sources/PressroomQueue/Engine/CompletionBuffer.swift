import Synchronization

/// Successful jobs waiting to be recorded. Job tasks hand their success over
/// and finish; a lane's recorder tasks each write whatever has gathered in one
/// transaction, so a lane pays one round trip per batch rather than per job.
final class CompletionBuffer: Sendable {
    struct Item: Sendable {
        let job: Job
        /// The handler's JSON result, or "null".
        let result: String
        let durationMs: Int64
    }

    private struct State {
        var items: [Item] = []
        var waiters: [CheckedContinuation<Void, Never>] = []
        var closed = false
    }

    private let state = Mutex(State())

    func submit(_ item: Item) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.items.append(item)
            return state.waiters.popLast()
        }
        waiter?.resume()
    }

    /// Up to `limit` items, waiting for the first; empty once closed and empty.
    func next(limit: Int) async -> [Item] {
        while true {
            let taken = state.withLock { state -> [Item]? in
                if state.items.isEmpty { return state.closed ? [] : nil }
                if state.items.count <= limit {
                    defer { state.items.removeAll(keepingCapacity: true) }
                    return state.items
                }
                defer { state.items.removeFirst(limit) }
                return Array(state.items.prefix(limit))
            }
            if let taken { return taken }
            await withCheckedContinuation { continuation in
                let ready = state.withLock { state -> Bool in
                    if !state.items.isEmpty || state.closed { return true }
                    state.waiters.append(continuation)
                    return false
                }
                if ready { continuation.resume() }
            }
        }
    }

    /// Ends ``next(limit:)`` once the buffer is empty.
    func close() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.closed = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}
