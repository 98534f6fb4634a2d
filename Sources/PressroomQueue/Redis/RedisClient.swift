import CHiredis
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
    enum Waiter: Sendable {
        case one(CheckedContinuation<RedisValue, Error>)
        case all(CheckedContinuation<[RedisValue], Error>)
        case decoded(@Sendable (UnsafeMutablePointer<redisReply>) throws -> any Sendable, CheckedContinuation<any Sendable, Error>)
        case decodedAll(@Sendable (UnsafeMutablePointer<redisReply>) -> any Sendable, CheckedContinuation<[any Sendable], Error>)
    }

    struct Request: Sendable {
        /// One or more encoded commands, written back to back.
        let bytes: [UInt8]
        let replies: Int
        let waiter: Waiter

        func fail(_ error: Error) {
            switch waiter {
            case .one(let continuation): continuation.resume(throwing: error)
            case .all(let continuation): continuation.resume(throwing: error)
            case .decoded(_, let continuation): continuation.resume(throwing: error)
            case .decodedAll(_, let continuation): continuation.resume(throwing: error)
            }
        }
    }

    /// The connection lives only on the pool's single thread.
    private final class ConnectionBox: @unchecked Sendable {
        var connection: RedisConnection?
        /// The Sentinel generation the connection was made in.
        var generation: UInt64 = 0
    }

    private let topology: RedisTopology
    /// The process's resolver, with a Sentinel topology.
    private let sentinel: RedisSentinel?
    private let connectTimeout: Duration
    private let commandTimeout: Duration
    private let thread: BlockingThreadPool
    private let box = ConnectionBox()
    private let queue = Mutex<(requests: [Request], flushScheduled: Bool)>(([], false))
    private let health: RedisHealth?
    /// Routes per hash slot when the topology is a cluster (RedisClusterRouter.swift).
    private let cluster: RedisClusterRouter?
    /// Upper bound on commands per pipeline, to bound memory and latency.
    private let maxBatch = 512

    public convenience init(
        endpoint: RedisEndpoint,
        name: String,
        connectTimeout: Duration = .seconds(2),
        commandTimeout: Duration = .seconds(10),
        health: RedisHealth? = nil
    ) {
        self.init(topology: .single(endpoint), name: name, connectTimeout: connectTimeout,
                  commandTimeout: commandTimeout, health: health)
    }

    public init(
        topology: RedisTopology,
        name: String,
        connectTimeout: Duration = .seconds(2),
        commandTimeout: Duration = .seconds(10),
        health: RedisHealth? = nil
    ) {
        self.topology = topology
        if case .sentinel(let configuration) = topology {
            self.sentinel = RedisSentinel.shared(for: configuration)
        } else {
            self.sentinel = nil
        }
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.health = health
        self.thread = BlockingThreadPool(name: "redis-\(name)", threads: 1)
        if case .cluster(let configuration) = topology {
            cluster = RedisClusterRouter(configuration: configuration, connectTimeout: connectTimeout, commandTimeout: commandTimeout)
        } else {
            cluster = nil
        }
    }

    deinit {
        thread.shutdown()
    }

    /// Sends one command; server error replies come back as `.error`, not thrown.
    public func send(_ args: [String]) async throws -> RedisValue {
        try await send(RESPCommand(args))
    }

    /// Sends one command and throws server error replies as ``RedisError``.
    @discardableResult
    public func call(_ args: [String]) async throws -> RedisValue {
        try await send(args).throwingServerError()
    }

    public func sendBytes(_ args: [[UInt8]]) async throws -> RedisValue {
        try await send(RESPCommand(bytes: args))
    }

    /// Sends a command encoded by the caller.
    public func send(_ command: RESPCommand) async throws -> RedisValue {
        try await withCheckedThrowingContinuation { continuation in
            enqueue(Request(bytes: command.bytes, replies: 1, waiter: .one(continuation)))
        }
    }

    /// Sends one command and decodes its reply straight from hiredis' reply
    /// tree on the connection thread (see ``RedisConnection/readReply(decode:)``).
    func send<T: Sendable>(_ command: RESPCommand, decode: @escaping @Sendable (UnsafeMutablePointer<redisReply>) throws -> T) async throws -> T {
        let value = try await withCheckedThrowingContinuation { continuation in
            enqueue(Request(bytes: command.bytes, replies: 1, waiter: .decoded({ try decode($0) }, continuation)))
        }
        return value as! T
    }

    /// Sends commands back to back (see ``send(_:)-pipeline``) and decodes
    /// each reply straight from hiredis' reply tree on the connection thread.
    func send<T: Sendable>(_ pipeline: RESPPipeline, decode: @escaping @Sendable (UnsafeMutablePointer<redisReply>) -> T) async throws -> [T] {
        guard pipeline.count > 0 else { return [] }
        let values = try await withCheckedThrowingContinuation { continuation in
            enqueue(Request(bytes: pipeline.bytes, replies: pipeline.count, waiter: .decodedAll({ decode($0) }, continuation)))
        }
        return values.map { $0 as! T }
    }

    /// Sends commands back to back, with no other caller's command in between
    /// (for `MULTI … EXEC`); returns every reply, server errors included.
    public func send(_ pipeline: RESPPipeline) async throws -> [RedisValue] {
        guard pipeline.count > 0 else { return [] }
        return try await withCheckedThrowingContinuation { continuation in
            enqueue(Request(bytes: pipeline.bytes, replies: pipeline.count, waiter: .all(continuation)))
        }
    }

    private func enqueue(_ request: Request) {
        let schedule = queue.withLock { state -> Bool in
            state.requests.append(request)
            if state.flushScheduled { return false }
            state.flushScheduled = true
            return true
        }
        if schedule, !thread.execute({ self.flush() }) {
            failAll(RedisError.connection("redis client is shut down"))
        }
    }

    /// Closes the connection and stops the thread; pending commands fail.
    public func shutdown() {
        _ = thread.execute { [box, cluster] in
            box.connection = nil
            cluster?.closeAll()
        }
        thread.shutdown()
    }

    private func failAll(_ error: Error) {
        let requests = queue.withLock { state -> [Request] in
            defer { state.requests = []; state.flushScheduled = false }
            return state.requests
        }
        for request in requests { request.fail(error) }
    }

    /// Runs on the connection thread until the queue is empty.
    private func flush() {
        while true {
            let batch = queue.withLock { state -> [Request] in
                if state.requests.isEmpty {
                    state.flushScheduled = false
                    return []
                }
                if state.requests.count <= maxBatch {
                    defer { state.requests.removeAll(keepingCapacity: true) }
                    return state.requests
                }
                let batch = Array(state.requests.prefix(maxBatch))
                state.requests.removeFirst(maxBatch)
                return batch
            }
            if batch.isEmpty { return }
            execute(batch)
        }
    }

    private func execute(_ batch: [Request]) {
        if let cluster {
            if let error = cluster.execute(batch.map(\.routed)) { health?.reportFailure(error) } else { health?.reportSuccess() }
            return
        }
        var answered = 0
        do {
            let connection = try connected()
            for request in batch { try connection.write(request.bytes) }
            for request in batch {
                switch request.waiter {
                case .one(let continuation):
                    let reply = try connection.readReply()
                    answered += 1
                    continuation.resume(returning: reply)
                case .decoded(let decode, let continuation):
                    // A decoding error is this request's alone; a broken connection fails the rest.
                    let result = Result { try connection.readReply(decode: decode) }
                    if case .failure(let error as RedisError) = result, error.kind == .connection { throw error }
                    answered += 1
                    continuation.resume(with: result)
                case .decodedAll(let decode, let continuation):
                    var replies: [any Sendable] = []
                    replies.reserveCapacity(request.replies)
                    for _ in 0..<request.replies { replies.append(try connection.readReply(decode: decode)) }
                    answered += 1
                    continuation.resume(returning: replies)
                case .all(let continuation):
                    var replies: [RedisValue] = []
                    replies.reserveCapacity(request.replies)
                    for _ in 0..<request.replies { replies.append(try connection.readReply()) }
                    answered += 1
                    continuation.resume(returning: replies)
                }
            }
            health?.reportSuccess()
        } catch {
            box.connection = nil
            let redisError = error as? RedisError ?? .connection("\(error)")
            // Every client of the process drops its connection: the master moved.
            if redisError.isWrongNode { sentinel?.invalidate(generation: box.generation) }
            health?.reportFailure(redisError)
            for request in batch.dropFirst(answered) { request.fail(redisError) }
        }
    }

    private func connected() throws -> RedisConnection {
        if let connection = box.connection {
            // A connection of an older Sentinel generation may be to a demoted master.
            sentinel?.verifyIfDue()
            if sentinel.map({ $0.generation == box.generation }) ?? true { return connection }
            box.connection = nil
        }
        let connection: RedisConnection
        switch topology {
        case .single(let endpoint):
            connection = try RedisConnection(endpoint: endpoint, connectTimeout: connectTimeout, commandTimeout: commandTimeout)
        case .sentinel:
            // Resolved again on every reconnect, as the Sentinel client guidelines ask.
            let master = try sentinel!.connectMaster(connectTimeout: connectTimeout, commandTimeout: commandTimeout)
            connection = master.connection
            box.generation = master.generation
        case .cluster:
            preconditionFailure("a cluster client routes per node (RedisClusterRouter)")
        }
        box.connection = connection
        return connection
    }
}
