import Foundation
#if canImport(Glibc)
import Glibc
#endif
import PressroomQueue
import PressroomStorage
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
            if process.terminationStatus != 0 || process.terminationReason != .exit {
                print("pressroom exited with \(process.terminationStatus) (\(process.terminationReason == .exit ? "exit" : "signal")):\n\(output)")
            }
            return process.terminationReason == .exit ? process.terminationStatus : 128 + process.terminationStatus
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
        let redis = try await client()
        defer { redis.shutdown() }
        try await killMidJob(redis: redis)
    }

    /// The same on a Redis Cluster of 3 masters and 3 replicas, through the daemon's cluster client.
    @Test func aWorkerKilledMidJobOnAClusterLosesNothing() async throws {
        try await ClusterTests.withCluster { cluster in
            let redis = RedisClient(topology: cluster.topology, name: "kill-cluster")
            defer { redis.shutdown() }
            try await killMidJob(redis: redis, env: cluster.daemonEnvironment)
        }
    }

    /// SIGKILL a worker holding jobs; another one finishes every job, each once.
    func killMidJob(redis: RedisClient, env: [String: String] = [:]) async throws {
        let namespace = "kill-\(UUID().uuidString.prefix(8))"
        let keys = QueueKeys(namespace: namespace, queue: "derive")
        let a = try Daemon(namespace: namespace, consumer: "victim", extraEnv: env)
        try await eventually(timeout: .seconds(20), "victim ready") { a.output.contains("worker ready") }
        let ids = (0..<12).map { "job-\($0)" }
        // Four short jobs, then long ones (6 s each over four slots): once a
        // short one has succeeded, the long ones hold the slots, so even a
        // machine loaded enough to delay the kill by seconds kills mid-job.
        for (index, id) in ids.enumerated() {
            try await QueueAdmin.enqueue(keys: keys, client: redis, id: id, type: "sleep", payload: index < 4 ? #"{"ms":200}"# : #"{"ms":6000}"#)
        }
        // Kill it while it holds jobs: some done, four in flight, the rest not yet read.
        try await eventually(timeout: .seconds(30), "first successes with jobs in flight") {
            let pending = try await redis.call(["XPENDING", keys.stream, QueueKeys.group]).array?.first?.int ?? 0
            let done = try await succeeded(redis, keys).count
            return done >= 1 && done < ids.count && pending > 0
        }
        a.signal(SIGKILL)
        _ = try await a.waitExit()
        let pendingAtKill = try await redis.call(["XPENDING", keys.stream, QueueKeys.group]).array?.first?.int ?? 0
        #expect(pendingAtKill > 0, "the kill landed mid-job")

        let b = try Daemon(namespace: namespace, consumer: "rescuer", extraEnv: env)
        do {
            try await eventually(timeout: .seconds(60), "every job finished") { Set(try await succeeded(redis, keys)).isSuperset(of: ids) }
        } catch {
            print("victim log:\n\(a.output)\nrescuer log:\n\(b.output)")
            throw error
        }
        #expect(try await redis.call(["XPENDING", keys.stream, QueueKeys.group]).array?.first?.int == 0)
        #expect(try await redis.call(["XLEN", keys.dead]).int == 0)
        // Never duplicated either: one succeeded event per id, the killed jobs included.
        let counts = Dictionary(try await succeeded(redis, keys).map { ($0, 1) }, uniquingKeysWith: +)
        for id in ids where counts[id] != 1 {
            Issue.record("\(id) succeeded \(counts[id] ?? 0) times")
        }
        // SIGTERM before its handler is installed would kill it outright.
        try await eventually(timeout: .seconds(20), "rescuer ready") { b.output.contains("worker ready") }
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

        try await QueueAdmin.enqueue(keys: keys, client: redis, id: "draining", type: "sleep", payload: #"{"ms":6000}"#)  // long: a loaded machine must not miss it running
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
/// The deadline only bounds how long a broken test hangs, never what passes:
/// CI runs the whole suite in parallel on two cores, so it is stretched to at
/// least a minute (a condition that holds returns at once).
func eventually(timeout: Duration, _ what: String, _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + max(timeout * 3, .seconds(60))
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
        let port = try ClusterRedis.freePort()
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

extension DaemonProcessTests {
    /// A redis-server of this test's own, so it can be taken away.
    final class OwnRedis {
        /// The kernel's pick: a random port could be another test's, or an
        /// outgoing connection's (Linux hands those out from 32768 up).
        let port = (try? ClusterRedis.freePort()) ?? Int.random(in: 40000...49999)
        private var process: Process?
        /// With a directory, data survives restarts: AOF with an fsync per write.
        let aofDirectory: URL?

        init(aofDirectory: URL? = nil) { self.aofDirectory = aofDirectory }

        func start() async throws {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/redis-server")
            p.arguments = ["--bind", "127.0.0.1", "--port", String(port), "--save", ""]
                + (aofDirectory.map { ["--dir", $0.path, "--appendonly", "yes", "--appendfsync", "always"] } ?? ["--appendonly", "no"])
            p.standardOutput = FileHandle.nullDevice
            try p.run()
            process = p
            let client = RedisClient(endpoint: RedisEndpoint(address: .tcp(host: "127.0.0.1", port: port)), name: "probe")
            defer { client.shutdown() }
            try await eventually(timeout: .seconds(10), "own redis") { (try? await client.call(["PING"])) != nil }
        }

        func kill() async {
            guard let process else { return }
            Glibc.kill(process.processIdentifier, SIGKILL)
            while process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
            self.process = nil
        }

        deinit { if let process, process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) } }
    }

    @Test func readinessFollowsRedisAndTheDrain() async throws {
        let redis = OwnRedis()
        try await redis.start()
        let port = try ClusterRedis.freePort()
        let a = try Daemon(namespace: "ready", consumer: "r", extraEnv: [
            "PRESSROOM_REDIS_URL": "redis://127.0.0.1:\(redis.port)", "PRESSROOM_ADMIN_ENABLED": "true",
            "PRESSROOM_ADMIN_PORT": String(port), "PRESSROOM_DRAIN_TIMEOUT": "10s",
        ])
        let readyz = "http://127.0.0.1:\(port)/readyz"
        try await eventually(timeout: .seconds(20), "ready") { try await httpGet(readyz).status == 200 }

        await redis.kill()
        try await eventually(timeout: .seconds(10), "not ready without redis") {
            let r = try await httpGet(readyz)
            return r.status == 503 && r.body.contains("redis")
        }
        #expect(try await httpGet("http://127.0.0.1:\(port)/healthz").status == 200, "alive all the same")
        try await redis.start()
        try await eventually(timeout: .seconds(15), "ready again") { try await httpGet(readyz).status == 200 }

        let client = RedisClient(endpoint: RedisEndpoint(address: .tcp(host: "127.0.0.1", port: redis.port)), name: "p")
        defer { client.shutdown() }
        let keys = QueueKeys(namespace: "ready", queue: "derive")
        try await QueueAdmin.enqueue(keys: keys, client: client, id: "slow", type: "sleep", payload: #"{"ms":3000}"#)
        // Redis came back empty: the worker recreates the group on its next read.
        try await eventually(timeout: .seconds(10), "started") {
            ((try? await client.call(["XPENDING", keys.stream, QueueKeys.group]))?.array?.first?.int ?? 0) == 1
        }
        a.signal(SIGTERM)
        try await eventually(timeout: .seconds(5), "not ready while draining") {
            let r = try await httpGet(readyz)
            return r.status == 503 && r.body.contains("draining")
        }
        #expect(try await a.waitExit() == 0)
    }
}

extension DaemonProcessTests {
    /// Runs the CLI; an empty value in `extra` removes that variable.
    func cli(_ args: [String], namespace: String, env extra: [String: String] = [:]) async throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.binary)
        p.arguments = args
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PRESSROOM_") }
        env["PRESSROOM_REDIS_URL"] = Self.redisURL
        env["PRESSROOM_REDIS_NAMESPACE"] = namespace
        env["PRESSROOM_DIAGNOSTICS"] = "true"
        for (k, v) in extra { env[k] = v.isEmpty ? nil : v }
        p.environment = env
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        while p.isRunning { try await Task.sleep(for: .milliseconds(10)) }
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Also with 3 partitions of the queue: the same commands over all of them.
    @Test(arguments: [1, 3]) func theDeadLetterCommandLine(partitions: Int) async throws {
        let namespace = "dlqcli-\(UUID().uuidString.prefix(8))"
        let env = partitions == 1 ? [:] : ["PRESSROOM_QUEUES_DERIVE_PARTITIONS": String(partitions)]
        func cli(_ args: [String], namespace: String) async throws -> (status: Int32, output: String) {
            try await self.cli(args, namespace: namespace, env: env)
        }
        let a = try Daemon(namespace: namespace, consumer: "w", extraEnv: env)
        try await eventually(timeout: .seconds(20), "ready") { a.output.contains("worker ready") }
        for i in 0..<3 {
            let r = try await cli(["enqueue", "sleep", "--id", "bad-\(i)", "--payload", #"{"fail":"permanent"}"#], namespace: namespace)
            #expect(r.status == 0 && r.output.contains("bad-\(i)"))
        }
        try await eventually(timeout: .seconds(10), "dead letters") {
            try await cli(["dlq", "stats", "--json"], namespace: namespace).output.contains(#""total" : 3"#)
        }
        let list = try await cli(["dlq", "list", "--json"], namespace: namespace)
        let letters = try #require(try JSONSerialization.jsonObject(with: Data(list.output.utf8)) as? [[String: Any]])
        #expect(letters.count == 3)
        #expect(letters.allSatisfy { ($0["reason"] as? String) == "diagnostics: asked to fail permanently" })
        let table = try await cli(["dlq", "list", "--queue", "derive"], namespace: namespace).output
        #expect(table.contains("derive/") && table.contains("bad-1"))
        if partitions > 1 {
            // bad-1 hashes to partition 2 of 3 (zlib.crc32(b"bad-1") % 3), bad-0 and bad-2 to 1.
            let bad1 = try #require(letters.first { $0["jobID"] as? String == "bad-1" })
            #expect(bad1["partition"] as? Int == 2)
            let reference = "derive/2/\(bad1["id"] as? String ?? "")"
            #expect(table.contains(reference), "\(table)")
            #expect(try await cli(["dlq", "show", reference], namespace: namespace).output.contains("bad-1"))
            let stats = try await cli(["dlq", "stats"], namespace: namespace).output
            #expect(stats.contains("by partition") && stats.contains("derive/1") && stats.contains("derive/2"), "\(stats)")
        }
        let dry = try await cli(["dlq", "replay", "--all", "--dry-run"], namespace: namespace)
        #expect(dry.output.contains("would replay 3"))
        let refused = try await cli(["dlq", "purge", "--all"], namespace: namespace)
        #expect(refused.status != 0 && refused.output.contains("--yes"))
        let purged = try await cli(["dlq", "purge", "--all", "--yes", "--type", "sleep", "--limit", "2"], namespace: namespace)
        #expect(purged.output.contains("purged 2"))
        let status = try await cli(["status", "--json"], namespace: namespace)
        #expect(status.output.contains(#""deadLetters" : 1"#))
        a.signal(SIGTERM)
        #expect(try await a.waitExit() == 0)
    }
}

extension DaemonProcessTests {
    static let fixtures = root.appendingPathComponent("Tests/PressroomImagingTests/Fixtures")

    func events(_ client: RedisClient, _ keys: QueueKeys) async throws -> [[String: String]] {
        StreamEntry.parseEntries(try await client.call(["XRANGE", keys.events, "-", "+"])).map {
            Dictionary($0.fields ?? [], uniquingKeysWith: { a, _ in a })
        }
    }

    @Test func deriveAndRenderEndToEndThroughTheFilesystemStore() async throws {
        let namespace = "img-\(UUID().uuidString.prefix(8))"
        let objects = FileManager.default.temporaryDirectory.appendingPathComponent("pressroom-objects-\(namespace)")
        let store = try FileSystemObjectStore(configuration: FileSystemStoreConfiguration(root: objects.appendingPathComponent("store").path), logger: .init(label: "t"))
        let photo = try Data(contentsOf: Self.fixtures.appendingPathComponent("exif/Landscape_6.jpg"))
        _ = try await store.putIfAbsent("uploads/a.jpg", data: photo, contentType: "image/jpeg")
        _ = try await store.putIfAbsent("uploads/hostile.jpg", data: try Data(contentsOf: Self.fixtures.appendingPathComponent("corrupt-header.jpg")), contentType: "image/jpeg")
        let redis = try await client()
        defer { redis.shutdown() }
        // The shipped catalogue plus a product small enough for this 450×300 photo.
        let policies = try TestPolicies.withSmallProduct(in: objects)
        let a = try Daemon(namespace: namespace, consumer: "imager", extraEnv: [
            "PRESSROOM_CONFIG": Self.root.appendingPathComponent("config/pressroom.example.yaml").path,
            "PRESSROOM_STORAGE_FILESYSTEM_ROOT": objects.appendingPathComponent("store").path,
            "PRESSROOM_IMAGING_POLICIES": policies.path,
            "PRESSROOM_IMAGING_PROFILES": Self.root.appendingPathComponent("config/profiles").path,
        ])
        do {
            try await eventually(timeout: .seconds(30), "ready") { a.output.contains("worker ready") }
        } catch {
            print(a.output)
            throw error
        }
        let derive = QueueKeys(namespace: namespace, queue: "derive")
        let render = QueueKeys(namespace: namespace, queue: "render")
        try await QueueAdmin.enqueue(keys: derive, client: redis, id: "d1", type: "derive", payload: #"{"source":"uploads/a.jpg"}"#)
        try await QueueAdmin.enqueue(keys: derive, client: redis, id: "bad", type: "derive", payload: #"{"source":"uploads/hostile.jpg"}"#)
        try await QueueAdmin.enqueue(keys: derive, client: redis, id: "escape", type: "derive", payload: #"{"source":"../etc/passwd"}"#)
        try await QueueAdmin.enqueue(keys: derive, client: redis, id: "d1-again", type: "derive", payload: #"{"source":"uploads/a.jpg"}"#)
        try await eventually(timeout: .seconds(60), "derive outcomes") { try await events(redis, derive).count >= 4 }
        let byID = Dictionary(try await events(redis, derive).map { ($0["id"] ?? "", $0) }, uniquingKeysWith: { a, _ in a })
        let first = try #require(byID["d1"]?["result"].flatMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] })
        let outputs = try #require(first["outputs"] as? [[String: Any]])
        #expect(outputs.contains { ($0["policy"] as? String) == "preview" })
        for output in outputs {
            let key = try #require(output["key"] as? String)
            #expect(try await store.head(key) != nil, "\(key) stored")
        }
        #expect((first["report"] as? [String: Any])?["products"] != nil)
        let again = try #require(byID["d1-again"]?["result"].flatMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] })
        // The two runs (possibly concurrent) wrote the same keys, each exactly once.
        let againOutputs = try #require(again["outputs"] as? [[String: Any]])
        #expect(Set(outputs.compactMap { $0["key"] as? String }) == Set(againOutputs.compactMap { $0["key"] as? String }))
        for key in outputs.compactMap({ $0["key"] as? String }) {
            let created = (outputs + againOutputs).filter { ($0["key"] as? String) == key && ($0["created"] as? Bool) == true }
            #expect(created.count == 1, "\(key) written once")
        }
        #expect(byID["bad"]?["event"] == "dead_lettered")
        #expect(byID["bad"]?["error_class"] == "permanent")
        #expect(byID["escape"]?["error"]?.contains("not a plain object key") == true)

        try await QueueAdmin.enqueue(keys: render, client: redis, id: "r1", type: "render",
                                     payload: #"{"source":"uploads/a.jpg","policy":"sticker-small","crop":{"x":0,"y":0,"width":1,"height":1}}"#)
        try await QueueAdmin.enqueue(keys: render, client: redis, id: "too-big", type: "render",
                                     payload: #"{"source":"uploads/a.jpg","policy":"poster-a2"}"#)
        try await eventually(timeout: .seconds(60), "render outcomes") { try await events(redis, render).count >= 2 }
        let renders = Dictionary(try await events(redis, render).map { ($0["id"] ?? "", $0) }, uniquingKeysWith: { a, _ in a })
        #expect(renders["too-big"]?["event"] == "dead_lettered")
        #expect(renders["too-big"]?["error"]?.contains("below the poster-a2 minimum") == true, "\(renders["too-big"] ?? [:])")
        let rendered = try #require(renders["r1"])
        #expect(rendered["event"] == "succeeded", "\(rendered)")
        let result = try #require(rendered["result"].flatMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] })
        #expect(result["comparedWithPreview"] as? Bool == true)
        let masterKey = try #require(result["key"] as? String)
        #expect(try await store.head(masterKey) != nil)
        a.signal(SIGTERM)
        #expect(try await a.waitExit() == 0)
        try? FileManager.default.removeItem(at: objects)
    }
}
