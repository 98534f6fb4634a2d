import Foundation
import Synchronization

/// Runs blocking C calls (hiredis, libcurl easy, libvips) on dedicated threads
/// so they never occupy Swift's cooperative pool, whose few threads must stay
/// free for async work (the same reason swift-nio ships `NIOThreadPool`).
///
/// Work is queued FIFO; the pool has a fixed number of threads, so it is also
/// a concurrency limit for what it runs.
public final class BlockingThreadPool: Sendable {
    private struct State {
        var queue: [@Sendable () -> Void] = []
        var head = 0
        var stopped = false
    }

    private let state = Mutex(State())
    private let condition = NSCondition()
    public let name: String
    public let threadCount: Int

    public init(name: String, threads: Int) {
        precondition(threads > 0, "a thread pool needs at least one thread")
        self.name = name
        self.threadCount = threads
        for index in 0..<threads {
            // Linux keeps 15 bytes of a thread's name (a longer one is refused outright).
            let suffix = "-\(index)"
            let threadName = String(name.utf8.prefix(max(0, 15 - suffix.utf8.count))).map { $0 + suffix } ?? "pool" + suffix
            let thread = Thread { [self] in
                // Set from the thread itself: on Linux a name given before start never reaches the
                // kernel, and the thread showed up in `top -H` and /proc under its creator's name.
                Thread.current.name = threadName
                self.workLoop()
            }
            thread.name = threadName
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    /// Runs `body` on a pool thread and returns its result.
    ///
    /// Cancellation is not propagated into `body`: a blocking C call cannot be
    /// interrupted safely, so callers bound it with the library's own timeouts.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
            let accepted = self.submit {
                continuation.resume(with: Result { try body() })
            }
            if !accepted {
                continuation.resume(throwing: CancellationError())
            }
        }
    }

    /// Like `run`, for work that can be stopped. A caller cancelled while `body` still waits
    /// for a thread returns at once with `CancellationError` and `body` never runs, so a timed-out
    /// job does not hold its lane slot behind other jobs' work; once `body` runs, `onCancel`
    /// (called on cancellation, from any thread) is how to make it end early.
    public func runCancellable<T: Sendable>(
        _ body: @escaping @Sendable () throws -> T, onCancel: @escaping @Sendable () -> Void
    ) async throws -> T {
        let ticket = Ticket<T>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
                let cancelled = ticket.state.withLock { state -> Bool in
                    if state.cancelled { return true }
                    state.continuation = continuation
                    return false
                }
                if cancelled { return continuation.resume(throwing: CancellationError()) }
                let accepted = self.submit {
                    let start = ticket.state.withLock { state -> Bool in
                        guard state.continuation != nil else { return false }
                        state.started = true
                        return true
                    }
                    guard start else { return }
                    let result = Result { try body() }
                    ticket.state.withLock { state in
                        defer { state.continuation = nil }
                        return state.continuation
                    }?.resume(with: result)
                }
                if !accepted {
                    ticket.state.withLock { state in
                        defer { state.continuation = nil }
                        return state.continuation
                    }?.resume(throwing: CancellationError())
                }
            }
        } onCancel: {
            ticket.state.withLock { state -> CheckedContinuation<T, Error>? in
                state.cancelled = true
                guard !state.started else { return nil }
                defer { state.continuation = nil }
                return state.continuation
            }?.resume(throwing: CancellationError())
            onCancel()
        }
    }

    /// One `runCancellable` call: whoever takes the continuation resumes it, exactly once.
    private final class Ticket<T: Sendable>: Sendable {
        struct State {
            var continuation: CheckedContinuation<T, Error>?
            var started = false
            var cancelled = false
        }
        let state = Mutex(State())
    }

    /// Queues `work` without waiting for it; returns `false` after `shutdown()`.
    /// For callers that batch their own requests (the Redis auto-pipeline).
    @discardableResult
    public func execute(_ work: @escaping @Sendable () -> Void) -> Bool {
        submit(work)
    }

    /// Stops the threads once the queued work is done; later `run` calls throw.
    public func shutdown() {
        state.withLock { $0.stopped = true }
        condition.lock()
        condition.broadcast()
        condition.unlock()
    }

    private func submit(_ work: @escaping @Sendable () -> Void) -> Bool {
        let accepted = state.withLock { state -> Bool in
            guard !state.stopped else { return false }
            state.queue.append(work)
            return true
        }
        if accepted {
            condition.lock()
            condition.signal()
            condition.unlock()
        }
        return accepted
    }

    private func next() -> (@Sendable () -> Void)? {
        state.withLock { state in
            guard state.head < state.queue.count else { return nil }
            let work = state.queue[state.head]
            // The queue lets go of the work now, so its captures are released by the caller after
            // it ran, outside this lock: a capture's deinit may call back into this pool (the last
            // reference to a RedisClient, whose deinit shuts its pool down, crashed on the
            // recursive lock when compaction below released it).
            state.queue[state.head] = Self.done
            state.head += 1
            if state.head > 64 && state.head * 2 > state.queue.count {
                state.queue.removeFirst(state.head)
                state.head = 0
            }
            return work
        }
    }

    /// What a taken slot of the queue holds until compaction.
    private static let done: @Sendable () -> Void = {}

    private func workLoop() {
        while true {
            if let work = next() {
                work()
                continue
            }
            condition.lock()
            // Re-check under the condition's lock so a submit between `next()`
            // and `wait()` cannot be missed.
            let (empty, stopped) = state.withLock { ($0.head >= $0.queue.count, $0.stopped) }
            if empty && stopped {
                condition.unlock()
                return
            }
            if empty {
                condition.wait()
            }
            condition.unlock()
        }
    }
}
