import Foundation
#if canImport(Glibc)
import Glibc
#endif
import PressroomDaemon
import PressroomQueue
import Testing

/// The notify socket systemd would own, read without blocking (polled from
/// async code, so a long test never holds a cooperative thread).
final class NotifySocket {
    let path: String
    private let fd: Int32
    /// Every datagram so far, with when it was read.
    private(set) var messages: [(at: ContinuousClock.Instant, text: String)] = []

    init() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pressroom-sd-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        path = dir.appendingPathComponent("notify").path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8) + [0]
        withUnsafeMutableBytes(of: &addr.sun_path) { $0.copyBytes(from: bytes) }
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard fd >= 0, bound == 0 else { throw POSIXError(.EADDRNOTAVAIL) }
    }

    deinit {
        close(fd)
        unlink(path)
    }

    /// Reads what has arrived; never waits.
    @discardableResult
    func collect() -> [String] {
        var new: [String] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            guard count > 0 else { break }
            new.append(String(decoding: buffer[0..<count], as: UTF8.self))
        }
        let now = ContinuousClock.now
        messages += new.map { (now, $0) }
        return new
    }

    /// Times of the datagrams holding `line` (e.g. `WATCHDOG=1`).
    func times(of line: String) -> [ContinuousClock.Instant] {
        messages.filter { $0.text.split(separator: "\n").contains { $0 == line } }.map(\.at)
    }

    func lines(startingWith prefix: String) -> [String] {
        messages.flatMap { $0.text.split(separator: "\n").map(String.init) }.filter { $0.hasPrefix(prefix) }
    }
}

/// A `pressroom` process with the caller's own command line, environment and
/// working directory (as a systemd unit would start it).
final class UnitProcess {
    let process = Process()
    let log: URL

    init(arguments: [String], environment extra: [String: String], directory: URL? = nil) throws {
        log = FileManager.default.temporaryDirectory.appendingPathComponent("pressroom-unit-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: DaemonProcessTests.binary)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PRESSROOM_") && $0.key != "NOTIFY_SOCKET" && !$0.key.hasPrefix("WATCHDOG_") }
        env["PRESSROOM_REDIS_URL"] = DaemonProcessTests.redisURL
        for (k, v) in extra { env[k] = v }
        process.environment = env
        if let directory {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            process.currentDirectoryURL = directory
        }
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
    }

    var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    func signal(_ sig: Int32) { kill(process.processIdentifier, sig) }

    /// The exit status (128 + N for signal N), polling so no thread blocks.
    func waitExit(timeout: Duration = .seconds(30)) async throws -> Int32 {
        try await eventually(timeout: timeout, "process exit") { !process.isRunning }
        return process.terminationReason == .exit ? process.terminationStatus : 128 + process.terminationStatus
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

/// systemd's view of a worker: notify messages, the watchdog, the admin port
/// of each instance (issue 15, items 8 and 11).
extension DaemonProcessTests {
    static let watchdogUsec = 20_000_000  // WatchdogSec=20s: a ping every 10 s

    @Test func theWatchdogKeepsPingingThroughA45SecondRedisOutage() async throws {
        let redis = OwnRedis()
        try await redis.start()
        let notify = try NotifySocket()
        let namespace = "wd-\(UUID().uuidString.prefix(8))"
        let worker = try UnitProcess(arguments: ["run", "--consumer", "wd"], environment: [
            "PRESSROOM_REDIS_URL": "redis://127.0.0.1:\(redis.port)", "PRESSROOM_REDIS_NAMESPACE": namespace,
            "PRESSROOM_DIAGNOSTICS": "true", "PRESSROOM_ADMIN_ENABLED": "false",
            "NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": String(Self.watchdogUsec),
        ])
        do {
            try await eventually(timeout: .seconds(30), "READY=1") { notify.collect(); return !notify.times(of: "READY=1").isEmpty }
            try await eventually(timeout: .seconds(30), "a first WATCHDOG=1") { notify.collect(); return !notify.times(of: "WATCHDOG=1").isEmpty }

            await redis.kill()
            let outage = ContinuousClock.now
            while ContinuousClock.now - outage < .seconds(45) {
                notify.collect()
                try await Task.sleep(for: .milliseconds(100))
            }
            let pings = notify.times(of: "WATCHDOG=1").filter { $0 > outage }
            // systemd kills a unit whose pings are WatchdogSec apart; none were.
            let gaps = zip([outage] + pings, pings + [ContinuousClock.now]).map { $1 - $0 }
            #expect(pings.count >= 3, "pings during the outage: \(pings.count)")
            #expect(gaps.allSatisfy { $0 < .microseconds(Self.watchdogUsec) }, "gaps: \(gaps)")
            #expect(notify.lines(startingWith: "STATUS=").contains { $0.contains("redis unreachable") },
                    "\(notify.lines(startingWith: "STATUS="))")

            // Redis is back (empty): the loops resume and serve jobs.
            try await redis.start()
            let client = RedisClient(endpoint: RedisEndpoint(address: .tcp(host: "127.0.0.1", port: redis.port)), name: "wd")
            defer { client.shutdown() }
            let keys = QueueKeys(namespace: namespace, queue: "derive")
            try await eventually(timeout: .seconds(30), "a job served after the outage") {
                if (try? await client.call(["XLEN", keys.stream]).int) == 0 {
                    _ = try? await QueueAdmin.enqueue(keys: keys, client: client, id: "after", type: "sleep", payload: #"{"ms":1}"#)
                }
                return try await succeeded(client, keys) == ["after"]
            }
            worker.signal(SIGTERM)
            #expect(try await worker.waitExit() == 0)
            notify.collect()
            #expect(!notify.times(of: "STOPPING=1").isEmpty)
            #expect(notify.lines(startingWith: "STATUS=").contains { $0.hasPrefix("STATUS=ready") })
        } catch {
            print("worker log:\n\(worker.output)")
            throw error
        }
    }

    @Test func theWatchdogStopsPingingWhenALaneIsWedged() async throws {
        let notify = try NotifySocket()
        let namespace = "wedge-\(UUID().uuidString.prefix(8))"
        let worker = try UnitProcess(arguments: ["run", "--consumer", "wedged"], environment: [
            "PRESSROOM_REDIS_NAMESPACE": namespace, "PRESSROOM_DIAGNOSTICS": "true", "PRESSROOM_ADMIN_ENABLED": "false",
            "NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "4000000", "PRESSROOM_TEST_WEDGE_LANE": "render",
            "PRESSROOM_QUEUES_RENDER_CONCURENCY": "2",
        ])
        let redis = try await client()
        defer { redis.shutdown() }
        do {
            try await eventually(timeout: .seconds(30), "READY=1") { notify.collect(); return !notify.times(of: "READY=1").isEmpty }
            #expect(worker.output.contains("$PRESSROOM_QUEUES_RENDER_CONCURENCY matches no config field; did you mean $PRESSROOM_QUEUES_RENDER_CONCURRENCY?"),
                    "unknown variables are warned about at start")
            try await eventually(timeout: .seconds(30), "pings") { notify.collect(); return notify.times(of: "WATCHDOG=1").count >= 2 }
            // Any entry on the render queue wedges its read loop (the hook).
            try await QueueAdmin.enqueue(keys: QueueKeys(namespace: namespace, queue: "render"), client: redis, id: "w", type: "sleep", payload: "{}")
            try await eventually(timeout: .seconds(30), "the lane wedged") { worker.output.contains("test hook: wedging") }
            try await eventually(timeout: .seconds(120), "pings withheld") { worker.output.contains("withholding watchdog pings") }
            #expect(worker.output.contains("lane render has not gone round"), "the log names the wedged loop")
            notify.collect()
            let lastPing = notify.times(of: "WATCHDOG=1").last ?? .now
            // Another full interval (2 s) and more passes without a ping.
            try await Task.sleep(for: .seconds(6))
            notify.collect()
            #expect(notify.times(of: "WATCHDOG=1").last == lastPing, "no pings once wedged")
        } catch {
            print("worker log:\n\(worker.output)")
            throw error
        }
        worker.signal(SIGKILL)
        _ = try await worker.waitExit()
    }

    /// The unit's ExecStart for instance `instance`, run with this build and the example config.
    static func unitArguments(instance: Int) throws -> [String] {
        let unit = try String(contentsOf: root.appendingPathComponent("systemd/pressroom@.service"), encoding: .utf8)
        let exec = try #require(unit.split(separator: "\n").first { $0.hasPrefix("ExecStart=") })
        return exec.dropFirst("ExecStart=".count).split(separator: " ").dropFirst().map {
            $0 == "/etc/pressroom/pressroom.yaml" ? root.appendingPathComponent("config/pressroom.example.yaml").path
                : $0.replacingOccurrences(of: "%i", with: String(instance))
        }
    }

    @Test func fourInstancesStartedAsTheUnitDoesAllServeJobsAndMetrics() async throws {
        let namespace = "units-\(UUID().uuidString.prefix(8))"
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pressroom-\(namespace)")
        let base = Int.random(in: 20000...29000)
        // What /etc/pressroom/pressroom.env would hold on this host.
        let env = [
            "PRESSROOM_REDIS_NAMESPACE": namespace, "PRESSROOM_ADMIN_PORT": String(base),
            "PRESSROOM_STORAGE_FILESYSTEM_ROOT": dir.appendingPathComponent("objects").path,
            "PRESSROOM_IMAGING_POLICIES": Self.root.appendingPathComponent("config/policies").path,
            "PRESSROOM_IMAGING_PROFILES": Self.root.appendingPathComponent("config/profiles").path,
            // The example config's vendors file is relative to the checkout; the sandbox vendor's folder goes with the state.
            "PRESSROOM_FULFILLMENT_VENDORS": Self.root.appendingPathComponent("config/vendors.yaml").path,
            "PRESSROOM_VENDORS_SANDBOX_SANDBOX_FOLDER": dir.appendingPathComponent("sandbox-vendor").path,
            "PRESSROOM_VENDORS_SANDBOX_SANDBOX_ALLOWED_ROOTS": "[\(dir.appendingPathComponent("objects").path)]",
        ]
        let instances = try (1...4).map { n in
            try UnitProcess(arguments: try Self.unitArguments(instance: n), environment: env, directory: dir.appendingPathComponent("state/\(n)"))
        }
        let redis = try await client()
        defer { redis.shutdown() }
        var all = instances
        do {
            for worker in instances {
                try await eventually(timeout: .seconds(60), "worker ready") { worker.output.contains("worker ready") }
            }
            for n in 1...4 {
                try await eventually(timeout: .seconds(30), "instance \(n)'s /metrics on port \(base + n)") {
                    let metrics = try await httpGet("http://127.0.0.1:\(base + n)/metrics")
                    return metrics.status == 200 && metrics.body.contains("pressroom_")
                }
            }
            // A fifth process on instance 1's port: it serves jobs all the same, and says so.
            var fifthArgs = try Self.unitArguments(instance: 1)
            fifthArgs[fifthArgs.firstIndex(of: "--consumer")! + 1] = "5"
            let fifth = try UnitProcess(arguments: fifthArgs, environment: env, directory: dir.appendingPathComponent("state/5"))
            all.append(fifth)
            try await eventually(timeout: .seconds(60), "the fifth ready") { fifth.output.contains("worker ready") }
            try await eventually(timeout: .seconds(30), "the fifth reports its port") { fifth.output.contains("admin server failed; serving jobs without it") }
            let keys = QueueKeys(namespace: namespace, queue: "derive")
            var enqueued = 0
            try await eventually(timeout: .seconds(90), "jobs served by every process") {
                let consumers = Set(try await events(redis, keys).filter { $0["event"] == "succeeded" }.compactMap { $0["consumer"] })
                if consumers.isSuperset(of: ["1", "2", "3", "4", "5"]) { return true }
                for _ in 0..<10 {
                    try await QueueAdmin.enqueue(keys: keys, client: redis, id: "u-\(enqueued)", type: "sleep", payload: #"{"ms":200}"#)
                    enqueued += 1
                }
                try await Task.sleep(for: .milliseconds(300))
                return false
            }
            try await eventually(timeout: .seconds(30), "`status` shows the fifth's warning") {
                let status = try await cli(["status", "--config", Self.root.appendingPathComponent("config/pressroom.example.yaml").path],
                                           namespace: namespace, env: env)
                return status.output.split(separator: "\n").contains {
                    $0.contains("consumer 5 ") && $0.contains("WARNING: admin server on 127.0.0.1:\(base + 1) is not running")
                }
            }
        } catch {
            for worker in all { print("worker log:\n\(worker.output)") }
            throw error
        }
        for worker in all { worker.signal(SIGTERM) }
        for worker in all {
            let status = try? await worker.waitExit(timeout: .seconds(60))
            #expect(status == 0, "\(worker.process.arguments ?? []): \(worker.output.suffix(3000))")
        }

        // With admin.required the same conflict is fatal.
        let holder = try UnitProcess(arguments: try Self.unitArguments(instance: 1), environment: env, directory: dir.appendingPathComponent("state/1"))
        try await eventually(timeout: .seconds(60), "holder on its port") { (try await httpGet("http://127.0.0.1:\(base + 1)/healthz")).status == 200 }
        var strictArgs = try Self.unitArguments(instance: 1)
        strictArgs[strictArgs.firstIndex(of: "--consumer")! + 1] = "6"
        let strict = try UnitProcess(arguments: strictArgs, environment: env.merging(["PRESSROOM_ADMIN_REQUIRED": "true"]) { a, _ in a },
                                     directory: dir.appendingPathComponent("state/6"))
        #expect(try await strict.waitExit(timeout: .seconds(60)) != 0, "\(strict.output)")
        holder.signal(SIGTERM)
        #expect(try await holder.waitExit() == 0)
    }
}

/// `run --instance %i` derives the admin port (issue 15, item 11).
struct InstancePortTests {
    @Test func aNumericInstanceOffsetsTheAdminPort() throws {
        var c = PressroomConfiguration()
        try c.adopt(instance: "3")
        #expect(c.admin.port == 9467)
        var named = PressroomConfiguration()
        try named.adopt(instance: "web1-1")
        #expect(named.admin.port == 9464, "a non-numeric instance keeps admin.port")
        var kernel = PressroomConfiguration()
        kernel.admin.port = 0
        try kernel.adopt(instance: "2")
        #expect(kernel.admin.port == 0, "port 0 stays kernel-picked")
        var high = PressroomConfiguration()
        high.admin.port = 65535
        #expect(throws: ConfigurationLoader.Invalid.self) { try high.adopt(instance: "1") }
    }
}
