import Foundation
import PressroomQueue
import Synchronization
import Testing

/// Runs the real `pressroom` binary as separate processes against the test
/// redis-server: the only honest way to test SIGKILL and signal handling.
@Suite("pressroom processes")
struct DaemonProcessTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var binary: String {
        ProcessInfo.processInfo.environment["PRESSROOM_BINARY"] ?? root.appendingPathComponent(".build/debug/pressroom").path
    }

    static var redisURL: String { ProcessInfo.processInfo.environment["PRESSROOM_TEST_REDIS_URL"] ?? "redis://127.0.0.1:6399" }

    static var redisPort: String { String(redisURL.split(separator: ":").last?.split(separator: "/").first ?? "6399") }

    final class Daemon {
        let process = Process()
        let log: URL

        init(namespace: String, consumer: String, extraEnv: [String: String] = [:]) throws {
            log = FileManager.default.temporaryDirectory.appendingPathComponent("pressroom-\(consumer)-\(UUID().uuidString).log")
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            process.executableURL = URL(fileURLWithPath: DaemonProcessTests.binary)
            process.arguments = ["run", "--consumer", consumer]
            var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PRESSROOM_") }
            env["PRESSROOM_REDIS_URL"] = DaemonProcessTests.redisURL
            env["PRESSROOM_REDIS_NAMESPACE"] = namespace
            env["PRESSROOM_DIAGNOSTICS"] = "true"
            env["PRESSROOM_ADMIN_ENABLED"] = "false"
            env["PRESSROOM_QUEUES_DERIVE_CLAIM_MIN_IDLE"] = "1s"
            env["PRESSROOM_QUEUES_DERIVE_CONCURRENCY"] = "4"
            for (k, v) in extraEnv { env[k] = v }
            process.environment = env
            let handle = try FileHandle(forWritingTo: log)
            process.standardOutput = handle
            process.standardError = handle
            try process.run()
        }

        var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

        func signal(_ sig: Int32) { kill(process.processIdentifier, sig) }

        func waitExit(timeout: Duration = .seconds(20)) async throws -> Int32 {
            try await eventually(timeout: timeout, "process exit") { !process.isRunning }
            return process.terminationStatus
        }

        deinit {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
    }

    func client() async throws -> RedisClient {
        let client = RedisClient(endpoint: try RedisEndpoint(url: Self.redisURL), name: "daemon-test")
        _ = try await client.call(["PING"])
        return client
    }

    func succeeded(_ client: RedisClient, _ keys: QueueKeys) async throws -> [String] {
        let events = StreamEntry.parseEntries(try await client.call(["XRANGE", keys.events, "-", "+"]))
        return events.compactMap { entry -> String? in
            let f = Dictionary(entry.fields ?? [], uniquingKeysWith: { a, _ in a })
            return f["event"] == "succeeded" ? f["id"] : nil
        }
    }

    @Test func aWorkerKilledMidJobLosesNothing() async throws {
        let namespace = "kill-\(UUID().uuidString.prefix(8))"
        let keys = QueueKeys(namespace: namespace, queue: "derive")
        let redis = try await client()
        defer { redis.shutdown() }
        let a = try Daemon(namespace: namespace, consumer: "victim")
        try await eventually(timeout: .seconds(20), "victim ready") { a.output.contains("worker ready") }
        let ids = (0..<12).map { "job-\($0)" }
        for id in ids {
            try await QueueAdmin.enqueue(keys: keys, client: redis, id: id, type: "sleep", payload: #"{"ms":700}"#)
        }
        // Kill it while it holds jobs: some done, four in flight, the rest not yet read.
        try await eventually(timeout: .seconds(10), "first successes with jobs in flight") {
            let pending = try await redis.call(["XPENDING", keys.stream, QueueKeys.group]).array?.first?.int ?? 0
            return try await succeeded(redis, keys).count >= 2 && pending > 0
        }
        a.signal(SIGKILL)
        _ = try await a.waitExit()
        let pendingAtKill = try await redis.call(["XPENDING", keys.stream, QueueKeys.group]).array?.first?.int ?? 0
        #expect(pendingAtKill > 0, "the kill landed mid-job")

        let b = try Daemon(namespace: namespace, consumer: "rescuer")
        do {
            try await eventually(timeout: .seconds(30), "every job finished") { Set(try await succeeded(redis, keys)).isSuperset(of: ids) }
        } catch {
            print("victim log:\n\(a.output)\nrescuer log:\n\(b.output)")
            throw error
        }
        #expect(try await redis.call(["XPENDING", keys.stream, QueueKeys.group]).array?.first?.int == 0)
        #expect(try await redis.call(["XLEN", keys.dead]).int == 0)
        b.signal(SIGTERM)
        #expect(try await b.waitExit() == 0)
    }

    @Test func sigtermDrainsAndExitsZeroAndTheNameIsExclusive() async throws {
        let namespace = "term-\(UUID().uuidString.prefix(8))"
        let keys = QueueKeys(namespace: namespace, queue: "derive")
        let redis = try await client()
        defer { redis.shutdown() }
        let a = try Daemon(namespace: namespace, consumer: "only-one")
        try await eventually(timeout: .seconds(20), "ready") { a.output.contains("worker ready") }

        let twin = try Daemon(namespace: namespace, consumer: "only-one")
        let twinStatus = try await twin.waitExit()
        #expect(twinStatus != 0)
        #expect(twin.output.contains("consumer name 'only-one' is in use by another live process"))

        try await QueueAdmin.enqueue(keys: keys, client: redis, id: "draining", type: "sleep", payload: #"{"ms":1500}"#)
        try await eventually(timeout: .seconds(10), "job started") {
            (try await redis.call(["XPENDING", keys.stream, QueueKeys.group]).array?.first?.int ?? 0) == 1
        }
        a.signal(SIGTERM)
        #expect(try await a.waitExit() == 0)
        #expect(try await succeeded(redis, keys) == ["draining"], "the in-flight job finished during the drain")
        #expect(a.output.contains("worker stopped"))
    }

    @Test func aProducerUsingOnlyRedisCliIsServed() async throws {
        let namespace = "cli-\(UUID().uuidString.prefix(8))"
        let keys = QueueKeys(namespace: namespace, queue: "derive")
        let redis = try await client()
        defer { redis.shutdown() }
        let a = try Daemon(namespace: namespace, consumer: "w")
        try await eventually(timeout: .seconds(20), "ready") { a.output.contains("worker ready") }
        // Exactly what docs/wire-format.md tells a frontend to send.
        let cli = Process()
        cli.executableURL = URL(fileURLWithPath: "/usr/bin/redis-cli")
        cli.arguments = ["-p", Self.redisPort, "XADD", "{\(namespace):derive}:jobs", "*",
                         "v", "1", "id", "order-42-preview", "type", "sleep", "payload", #"{"ms": 5}"#,
                         "enqueued_at", String(Int64(Date().timeIntervalSince1970 * 1000))]
        cli.standardOutput = FileHandle.nullDevice
        try cli.run()
        while cli.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        #expect(cli.terminationStatus == 0)
        try await eventually(timeout: .seconds(10), "event") { try await succeeded(redis, keys) == ["order-42-preview"] }
        let events = StreamEntry.parseEntries(try await redis.call(["XRANGE", keys.events, "-", "+"]))
        let fields = Dictionary(events.last?.fields ?? [], uniquingKeysWith: { a, _ in a })
        #expect(fields["result"] == #"{"slept_ms":5}"#)
        a.signal(SIGTERM)
        #expect(try await a.waitExit() == 0)
    }
}

/// Polls until `condition` holds; fails the test on timeout.
func eventually(timeout: Duration, _ what: String, _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    Issue.record("timed out waiting for \(what)")
    throw CancellationError()
}

extension DaemonProcessTests {
    func httpGet(_ url: String) async throws -> (status: Int, body: String) {
        let curl = Process()
        curl.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        curl.arguments = ["-s", "-o", "-", "-w", "\n%{http_code}", url]
        let pipe = Pipe()
        curl.standardOutput = pipe
        try curl.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        while curl.isRunning { try await Task.sleep(for: .milliseconds(10)) }
        let text = String(decoding: data, as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        return (Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: "\n"))
    }

    @Test func metricsAndReadinessAreServedOnTheAdminPort() async throws {
        let namespace = "admin-\(UUID().uuidString.prefix(8))"
        let keys = QueueKeys(namespace: namespace, queue: "derive")
        let port = Int.random(in: 30000...39999)
        let redis = try await client()
        defer { redis.shutdown() }
        let a = try Daemon(namespace: namespace, consumer: "metered", extraEnv: [
            "PRESSROOM_ADMIN_ENABLED": "true", "PRESSROOM_ADMIN_PORT": String(port), "PRESSROOM_LOG_FORMAT": "json",
        ])
        try await eventually(timeout: .seconds(20), "ready") { a.output.contains("worker ready") }
        #expect(try await httpGet("http://127.0.0.1:\(port)/healthz").status == 200)
        let ready = try await httpGet("http://127.0.0.1:\(port)/readyz")
        #expect(ready.status == 200, "\(ready.body)")
        try await QueueAdmin.enqueue(keys: keys, client: redis, id: "m1", type: "sleep", payload: #"{"ms":5}"#)
        try await QueueAdmin.enqueue(keys: keys, client: redis, id: "m2", type: "sleep", payload: #"{"ms":5,"fail":"permanent"}"#)
        try await eventually(timeout: .seconds(10), "jobs done") { (try await redis.call(["XLEN", keys.events]).int ?? 0) >= 2 }
        let metrics = try await httpGet("http://127.0.0.1:\(port)/metrics")
        #expect(metrics.status == 200)
        let lines = metrics.body.split(separator: "\n").map(String.init)
        func value(_ prefix: String) -> Double? {
            lines.first { $0.hasPrefix(prefix) }.flatMap { $0.split(separator: " ").last.flatMap { Double($0) } }
        }
        #expect(value(#"pressroom_jobs_succeeded_total{queue="derive",type="sleep"}"#) == 1, "\(metrics.body.prefix(3000))")
        #expect(value(#"pressroom_jobs_failed_total{queue="derive",type="sleep",class="permanent"}"#) == 1)
        #expect(lines.contains { $0.hasPrefix("pressroom_job_duration_seconds_bucket") })
        #expect(value("pressroom_redis_up") == 1)
        // Logs are structured JSON lines carrying the job's metadata.
        let jsonLine = a.output.split(separator: "\n").first { $0.contains("dead-lettering job") }
        let object = try #require(jsonLine.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] })
        #expect(object["job_id"] as? String == "m2")
        #expect(object["queue"] as? String == "derive")
        a.signal(SIGTERM)
        #expect(try await a.waitExit() == 0)
    }
}
