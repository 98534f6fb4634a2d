import Foundation
import Logging
import PressroomSupport
import Synchronization

/// A Redis connection on its own thread, with automatic pipelining: commands
/// sent concurrently are written together and their replies read together, so
/// many lanes completing jobs at once cost one round trip, not one each.
///
/// The connection is created lazily and dropped on any I/O error; the next
/// command reconnects. Callers decide how to back off (see ``Backoff``).
/// Blocking commands (`XREADGROUP BLOCK`) need a client of their own, or they
/// would hold up everything queued behind them.
public final class RedisClient: Sendable {
    private struct Request: Sendable {
        let args: [[UInt8]]
        let continuation: CheckedContinuation<RedisValue, Error>
    }

    /// The connection lives only on the pool's single thread.
    private final class ConnectionBox: @unchecked Sendable {
        var connection: RedisConnection?
    }

    private let endpoint: RedisEndpoint
    private let connectTimeout: Duration
    private let commandTimeout: Duration
    private let thread: BlockingThreadPool
    private let box = ConnectionBox()
    private let queue = Mutex<(requests: [Request], flushScheduled: Bool)>(([], false))
    private let health: RedisHealth?
    /// Upper bound on commands per pipeline, to bound memory and latency.
    private let maxBatch = 512

    public init(
        endpoint: RedisEndpoint,
        name: String,
        connectTimeout: Duration = .seconds(2),
        commandTimeout: Duration = .seconds(10),
        health: RedisHealth? = nil
    ) {
        self.endpoint = endpoint
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.health = health
        self.thread = BlockingThreadPool(name: "redis-\(name)", threads: 1)
    }

    deinit {
        thread.shutdown()
    }

    /// Sends one command; server error replies come back as `.error`, not thrown.
    public func send(_ args: [String]) async throws -> RedisValue {
        try await sendBytes(args.map { Array($0.utf8) })
    }

    /// Sends one command and throws server error replies as ``RedisError``.
    @discardableResult
    public func call(_ args: [String]) async throws -> RedisValue {
        try await send(args).throwingServerError()
    }

    public func sendBytes(_ args: [[UInt8]]) async throws -> RedisValue {
        try await withCheckedThrowingContinuation { continuation in
            let schedule = queue.withLock { state -> Bool in
                state.requests.append(Request(args: args, continuation: continuation))
                if state.flushScheduled { return false }
                state.flushScheduled = true
                return true
            }
            if schedule, !thread.execute({ self.flush() }) {
                failAll(RedisError.connection("redis client is shut down"))
            }
        }
    }

    /// Closes the connection and stops the thread; pending commands fail.
    public func shutdown() {
        _ = thread.execute { [box] in box.connection = nil }
        thread.shutdown()
    }

    private func failAll(_ error: Error) {
        let requests = queue.withLock { state -> [Request] in
            defer { state.requests = []; state.flushScheduled = false }
            return state.requests
        }
        for request in requests { request.continuation.resume(throwing: error) }
    }

    /// Runs on the connection thread until the queue is empty.
    private func flush() {
        while true {
            let batch = queue.withLock { state -> [Request] in
                if state.requests.isEmpty {
                    state.flushScheduled = false
                    return []
                }
                let count = min(state.requests.count, maxBatch)
                let batch = Array(state.requests.prefix(count))
                state.requests.removeFirst(count)
                return batch
            }
            if batch.isEmpty { return }
            execute(batch)
        }
    }

    private func execute(_ batch: [Request]) {
        do {
            let connection = try connected()
            let replies = try connection.pipeline(batch.map { $0.args })
            health?.reportSuccess()
            for (request, reply) in zip(batch, replies) {
                request.continuation.resume(returning: reply)
            }
        } catch {
            box.connection = nil
            let redisError = error as? RedisError ?? .connection("\(error)")
            health?.reportFailure(redisError)
            for request in batch { request.continuation.resume(throwing: redisError) }
        }
    }

    private func connected() throws -> RedisConnection {
        if let connection = box.connection { return connection }
        let connection = try RedisConnection(
            endpoint: endpoint,
            connectTimeout: connectTimeout,
            commandTimeout: commandTimeout
        )
        box.connection = connection
        return connection
    }
}
