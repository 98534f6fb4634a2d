import Foundation
import PressroomSupport
import Synchronization
import Testing

/// `runCancellable`: a cancelled caller waiting for a thread leaves at once and its work never
/// runs; work already running is asked to stop through `onCancel`.
@Suite struct BlockingThreadPoolTests {
    /// Blocks a pool thread until opened.
    final class ThreadGate: Sendable {
        private let condition = NSCondition()
        private let state = Mutex((waiting: false, open: false))

        var isWaiting: Bool { state.withLock { $0.waiting } }

        func wait() {
            condition.lock()
            state.withLock { $0.waiting = true }
            while !state.withLock({ $0.open }) { condition.wait() }
            condition.unlock()
        }

        func open() {
            condition.lock()
            state.withLock { $0.open = true }
            condition.broadcast()
            condition.unlock()
        }
    }

    static func waitUntil(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while !condition() {
            guard ContinuousClock.now < deadline else { Issue.record("timed out"); throw CancellationError() }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    @Test func aCancelledCallerWaitingForAThreadReturnsAtOnceAndItsWorkNeverRuns() async throws {
        let pool = BlockingThreadPool(name: "test-pool", threads: 1)
        defer { pool.shutdown() }
        let gate = ThreadGate()
        let first = Task { try await pool.runCancellable({ gate.wait(); return 1 }, onCancel: {}) }
        try await Self.waitUntil { gate.isWaiting }
        let ran = Mutex(false)
        let second = Task { try await pool.runCancellable({ ran.withLock { $0 = true }; return 2 }, onCancel: {}) }
        second.cancel()
        // Returns while the only thread is still blocked by the first call.
        await #expect(throws: CancellationError.self) { try await second.value }
        gate.open()
        #expect(try await first.value == 1)
        // FIFO on one thread: once this runs, the second call's turn has passed.
        #expect(try await pool.runCancellable({ 3 }, onCancel: {}) == 3)
        #expect(ran.withLock { $0 } == false, "cancelled work was skipped")
    }

    /// Shuts its pool down when released, as a RedisClient does.
    final class PoolOwner: Sendable {
        let pool: BlockingThreadPool
        init(_ pool: BlockingThreadPool) { self.pool = pool }
        deinit { pool.shutdown() }
    }

    /// Regression: the queue released finished work inside its lock when it compacted, so work
    /// holding the last reference to its pool's owner crashed on a recursive lock.
    @Test func workReleasingThePoolsOwnerDoesNotDeadlockThePool() async throws {
        let pool = BlockingThreadPool(name: "test-pool", threads: 1)
        let gate = ThreadGate()
        let finished = Mutex(0)
        pool.execute { gate.wait() }
        do {
            let owner = PoolOwner(pool)
            for _ in 0..<63 { pool.execute { withExtendedLifetime(owner) {} } }
        }
        for _ in 0..<8 { pool.execute { finished.withLock { $0 += 1 } } }
        gate.open()
        try await Self.waitUntil { finished.withLock { $0 } == 8 }
    }

    @Test func runningWorkIsAskedToStop() async throws {
        let pool = BlockingThreadPool(name: "test-pool", threads: 1)
        defer { pool.shutdown() }
        let gate = ThreadGate()
        let call = Task { try await pool.runCancellable({ gate.wait(); return "stopped early" }, onCancel: { gate.open() }) }
        try await Self.waitUntil { gate.isWaiting }
        call.cancel()
        #expect(try await call.value == "stopped early")
    }
}
