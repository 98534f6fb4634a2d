import Foundation
#if canImport(Glibc)
import Glibc
#endif
@testable import PressroomQueue
import Testing

/// A redis-server of the test's own, so it can be killed and restarted.
final class PrivateRedis {
    let port: Int
    private var process: Process?
    let directory: URL

    init() throws {
        // Below Linux's ephemeral range (32768 up), where outgoing connections take their ports.
        port = Int.random(in: 20000...32000)
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("pressroom-redis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    var endpoint: RedisEndpoint { RedisEndpoint(address: .tcp(host: "127.0.0.1", port: port)) }

    func start() async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/redis-server")
        process.arguments = ["--bind", "127.0.0.1", "--port", String(port), "--save", "", "--appendonly", "no", "--dir", directory.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        let client = RedisClient(endpoint: endpoint, name: "probe")
        defer { client.shutdown() }
        try await eventually(timeout: .seconds(10), "redis-server on \(port)") {
            (try? await client.call(["PING"])) != nil
        }
    }

    /// SIGKILL, like a crash; waits without blocking a cooperative thread
    /// (Process.waitUntilExit spins a run loop that can hang there).
    func kill() async {
        guard let process else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        while process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
        self.process = nil
    }

    /// A ready worker, consumer "c", running the one queue `queue` on this server.
    func startWorker(namespace: String, queue: QueueOptions, registry: JobRegistry) async throws -> RunningWorker {
        let worker = QueueWorker(
            configuration: .init(endpoint: endpoint, namespace: namespace, consumer: "c", queues: [queue]),
            registry: registry, logger: TestRedis.logger)
        let running = RunningWorker(worker)
        try await running.waitReady()
        return running
    }

    deinit {
        if let process, process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: directory)
    }
}

struct RedisOutageTests {
    @Test func theWorkerRidesOutARedisRestartAndResumes() async throws {
        let redis = try PrivateRedis()
        try await redis.start()
        let recorder = Recorder()
        let keys = QueueKeys(namespace: "outage", queue: "q")
        let running = try await redis.startWorker(
            namespace: "outage", queue: QueueOptions(name: "q", concurrency: 2, block: .milliseconds(200)),
            registry: registry([("t", "q")]) { ctx in
                recorder.record(ctx.job.id)
                return nil
            })
        let worker = running.worker
        let producer = RedisClient(endpoint: redis.endpoint, name: "producer")
        defer { producer.shutdown() }
        try await QueueAdmin.enqueue(keys: keys, client: producer, id: "before", type: "t", payload: "{}")
        try await eventually { recorder.count("before") == 1 }

        await redis.kill()
        try await eventually(timeout: .seconds(5), "outage noticed") { !worker.health.isUp }
        try await Task.sleep(for: .seconds(1))
        #expect(worker.phase == .ready, "no crash while Redis is away")

        try await redis.start()   // empty: the data went with the process
        // The producer's own connection broke too; its first command reconnects.
        try await eventually(timeout: .seconds(5), "producer reconnected") {
            (try? await QueueAdmin.enqueue(keys: keys, client: producer, id: "after", type: "t", payload: "{}")) != nil
        }
        try await eventually(timeout: .seconds(15), "job after restart") { recorder.count("after") == 1 }
        // Connections idle through the outage find out on first use and reconnect.
        try await eventually(timeout: .seconds(5), "health back up") { worker.health.isUp }
        #expect(await running.stop() == nil)
    }
}

extension RedisOutageTests {
    /// Every connection of the worker is killed again and again while it
    /// works: mid-read, mid-admission, mid-`MULTI/EXEC`. Each job must still
    /// run exactly once and be recorded (record and event) exactly once: a
    /// transaction whose reply was lost is not sent again, one that never ran
    /// is, and entries delivered by a read whose reply was lost are taken
    /// back after claimMinIdle.
    @Test func killedConnectionsNeitherLoseNorRepeatJobs() async throws {
        let redis = try PrivateRedis()
        try await redis.start()
        let recorder = Recorder()
        let keys = QueueKeys(namespace: "kill", queue: "q")
        let running = try await redis.startWorker(
            namespace: "kill", queue: QueueOptions(name: "q", concurrency: 16, block: .milliseconds(100), claimMinIdle: .milliseconds(1500)),
            registry: registry([("t", "q")]) { ctx in
                recorder.record(ctx.job.id)
                try await Task.sleep(for: .milliseconds(Int.random(in: 1...8)))
                return nil
            })
        let admin = RedisClient(endpoint: redis.endpoint, name: "admin")
        defer { admin.shutdown() }
        let jobs = 1500
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<jobs {
                group.addTask { _ = try await QueueAdmin.enqueue(keys: keys, client: admin, id: "k-\(i)", type: "t", payload: "{}") }
            }
            try await group.waitForAll()
        }
        var killsWhileBusy = 0
        // A wedged worker fails the test at the deadline instead of hanging CI.
        let busyDeadline = ContinuousClock.now + .seconds(120)
        while recorder.total < jobs * 3 / 4 {
            guard ContinuousClock.now < busyDeadline else {
                Issue.record("only \(recorder.total) of \(jobs) jobs ran within 120 s while connections were killed")
                _ = await running.stop()
                return
            }
            try await Task.sleep(for: .milliseconds(25))
            let killed = (try? await admin.call(["CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"]))?.int ?? 0
            if killed > 0 && recorder.total < jobs { killsWhileBusy += 1 }
        }
        #expect(killsWhileBusy >= 3, "the connections were killed while jobs ran")
        try await eventually(timeout: .seconds(30), "every job recorded") {
            var done = 0
            for i in 0..<jobs where (try await QueueAdmin.completedRecord(keys: keys, client: admin, jobID: "k-\(i)")) != nil { done += 1 }
            return done == jobs
        }
        try await eventually(timeout: .seconds(10), "nothing pending") {
            try await admin.call(["XPENDING", keys.stream, QueueKeys.group]).array?.first?.int == 0
        }
        #expect(recorder.total == jobs, "each job ran once")
        for i in 0..<jobs where recorder.count("k-\(i)") != 1 {
            Issue.record("k-\(i) ran \(recorder.count("k-\(i)")) times")
        }
        let events = try await admin.call(["XRANGE", keys.events, "-", "+"])
        let succeeded = StreamEntry.parseEntries(events).filter { $0.fields?.contains { $0 == ("event", "succeeded") } == true }
        #expect(succeeded.count == jobs, "one succeeded event per job")
        #expect(await running.stop() == nil)
    }
}

extension RedisOutageTests {
    /// Admission held up (CLIENT PAUSE WRITE) and its connection killed: the
    /// entry waits for Redis on its own while its job id is claimed here. When
    /// Redis answers again, the lane's own takeover scan may hand the same
    /// entry back; that copy must be left alone (not acknowledged as a
    /// duplicate), or the first attempt's retry would find nothing to retry
    /// and the job would vanish.
    @Test func anEntryDeliveredTwiceToItsOwnLaneIsNotLost() async throws {
        let redis = try PrivateRedis()
        try await redis.start()
        let recorder = Recorder()
        let keys = QueueKeys(namespace: "twice", queue: "q")
        // The default test registry retries after 50-200 ms, up to 3 attempts.
        let running = try await redis.startWorker(
            namespace: "twice", queue: QueueOptions(name: "q", concurrency: 8, block: .milliseconds(100), claimMinIdle: .milliseconds(300)),
            registry: registry([("t", "q")]) { ctx in
                recorder.record(ctx.job.id)
                if ctx.job.attempt == 1 { throw JobError.transient("first attempt fails") }
                return nil
            })
        let admin = RedisClient(endpoint: redis.endpoint, name: "admin")
        defer { admin.shutdown() }
        let trials = 3
        for i in 0..<trials {
            var pipeline = RESPPipeline()
            let fields = WireFormat.fields(id: "twice-\(i)", type: "t", payload: "{}")
            pipeline.append(["XADD", keys.stream, "*"] + fields.flatMap { [$0.0, $0.1] })
            pipeline.append(["CLIENT", "PAUSE", "1000", "WRITE"])
            _ = try await admin.send(pipeline)
            try await Task.sleep(for: .milliseconds(50))
            _ = try await admin.send(["CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"])
            try await Task.sleep(for: .milliseconds(1500))
        }
        for i in 0..<trials {
            try await eventually(timeout: .seconds(15), "twice-\(i) finished") {
                try await QueueAdmin.completedRecord(keys: keys, client: admin, jobID: "twice-\(i)") != nil
            }
        }
        #expect(try await admin.call(["XLEN", keys.dead]).int == 0)
        #expect(await running.stop() == nil)
    }
}
