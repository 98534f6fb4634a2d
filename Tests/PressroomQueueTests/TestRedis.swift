import Foundation
import Logging
@testable import PressroomQueue
import Synchronization
import Testing

/// The redis-server the test scripts start (scripts/services/redis.sh).
enum TestRedis {
    static var endpoint: RedisEndpoint {
        let url = ProcessInfo.processInfo.environment["PRESSROOM_TEST_REDIS_URL"] ?? "redis://127.0.0.1:6399"
        return try! RedisEndpoint(url: url)
    }

    /// A namespace no other test uses, so tests run in parallel on one server.
    static func namespace(_ name: String = #function) -> String {
        let clean = name.filter { $0.isLetter || $0.isNumber }
        return "t-\(clean.prefix(24))-\(UUID().uuidString.prefix(8))"
    }

    static func client(_ name: String = "test") async throws -> RedisClient {
        let client = RedisClient(endpoint: endpoint, name: name)
        do {
            _ = try await client.call(["PING"])
        } catch {
            Issue.record("redis-server is not reachable at \(endpoint): start it with scripts/services/redis.sh or run scripts/test.sh (\(error))")
            throw error
        }
        return client
    }

    static var logger: Logger {
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        return logger
    }
}

/// Counts handler runs and records what they saw.
final class Recorder: Sendable {
    private let state = Mutex<(runs: [String: Int], order: [String])>(([:], []))

    func record(_ id: String) {
        state.withLock {
            $0.runs[id, default: 0] += 1
            $0.order.append(id)
        }
    }

    func count(_ id: String) -> Int { state.withLock { $0.runs[id, default: 0] } }
    var total: Int { state.withLock { $0.runs.values.reduce(0, +) } }
    var sequence: [String] { state.withLock { $0.order } }
}

/// Runs a worker in the background for the duration of a test.
final class RunningWorker: Sendable {
    let worker: QueueWorker
    private let task: Task<Error?, Never>

    init(_ worker: QueueWorker) {
        self.worker = worker
        self.task = Task {
            do { try await worker.run(); return nil } catch { return error }
        }
    }

    /// Asks for a graceful stop and waits for the drain.
    @discardableResult
    func stop() async -> Error? {
        worker.stop()
        return await task.value
    }

    /// Waits for the worker to end on its own.
    func exit() async -> Error? { await task.value }

    func waitReady(timeout: Duration = .seconds(10)) async throws {
        try await eventually(timeout: timeout) { worker.phase == .ready }
    }
}

struct Harness {
    let namespace: String
    let client: RedisClient
    var queues: [QueueOptions]

    init(namespace: String, queues: [QueueOptions]) async throws {
        self.namespace = namespace
        self.client = try await TestRedis.client()
        self.queues = queues
    }

    func keys(_ queue: String) -> QueueKeys { QueueKeys(namespace: namespace, queue: queue) }

    func worker(consumer: String, registry: JobRegistry, drainTimeout: Duration = .seconds(5)) -> RunningWorker {
        RunningWorker(QueueWorker(
            configuration: .init(endpoint: TestRedis.endpoint, namespace: namespace, consumer: consumer, queues: queues,
                                 drainTimeout: drainTimeout, delayedPollInterval: .milliseconds(50), trimInterval: .seconds(3600)),
            registry: registry, logger: TestRedis.logger))
    }

    @discardableResult
    func enqueue(_ queue: String, id: String, type: String = "t", payload: String = "{}") async throws -> String {
        try await QueueAdmin.enqueue(keys: keys(queue), client: client, id: id, type: type, payload: payload)
    }

    func entries(_ key: String) async throws -> [StreamEntry] {
        StreamEntry.parseEntries(try await client.call(["XRANGE", key, "-", "+"]))
    }

    /// The entry's fields by name. A name given twice fails the test: readers of a stream
    /// entry (`dlq show`, producers' consumers) see one value per name, so a repeat is a bug
    /// (as the dead letters' repeated failure times were before acde12b), never to be hidden.
    func fields(_ entry: StreamEntry) -> [String: String] {
        var map: [String: String] = [:]
        for (name, value) in entry.fields ?? [] {
            if map.updateValue(value, forKey: name) != nil {
                Issue.record("entry \(entry.id) carries field '\(name)' more than once")
            }
        }
        return map
    }

    func events(_ queue: String) async throws -> [[String: String]] {
        try await entries(keys(queue).events).map(fields)
    }

    func deadLetters(_ queue: String) async throws -> [[String: String]] {
        try await entries(keys(queue).dead).map(fields)
    }

    func pendingCount(_ queue: String) async throws -> Int {
        let reply = try await client.call(["XPENDING", keys(queue).stream, QueueKeys.group])
        return Int(reply.array?.first?.int ?? 0)
    }
}

/// Polls `condition` until it holds or the timeout passes (then fails the test).
/// The deadline only bounds how long a broken test hangs, never what passes:
/// CI runs the whole suite in parallel on two cores, so it is stretched to at
/// least a minute (a condition that holds returns at once).
func eventually(timeout: Duration = .seconds(10), _ what: String = "condition", _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + max(timeout * 3, .seconds(60))
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(25))
    }
    Issue.record("timed out waiting for \(what)")
    throw CancellationError()
}

func registry(_ types: [(String, String)], retry: RetryPolicy = RetryPolicy(maxAttempts: 3, initialBackoff: .milliseconds(50), maxBackoff: .milliseconds(200)), handler: @escaping @Sendable (JobContext) async throws -> Data?) -> JobRegistry {
    var registry = JobRegistry()
    for (type, queue) in types {
        registry.register(JobTypeOptions(type: type, queue: queue, retry: retry), handler: ClosureJobHandler(handler))
    }
    return registry
}
