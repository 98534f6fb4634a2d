import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif
@testable import PressroomDaemon
import PressroomQueue
import Synchronization
import Testing

/// A master, one replica and three `redis-sentinel` processes of the test's own on loopback
/// (kernel-picked ports). The test forces its failover (`SENTINEL FAILOVER`), so down-after
/// only needs to be long enough that a loaded CI machine does not start one of its own; a short
/// failover timeout keeps the failover to seconds. Persistence off: what a failover loses here
/// is what asynchronous replication loses. Servers and sentinels have passwords of their own.
final class SentinelRedis {
    let masterName = "pm"
    let password = "redis-pw-\(UUID().uuidString.prefix(8))"
    let sentinelPassword = "sentinel-pw-\(UUID().uuidString.prefix(8))"
    let directory: URL
    /// The first master, then the replica.
    private(set) var serverPorts: [Int] = []
    private(set) var sentinelPorts: [Int] = []
    private var processes: [Int: Process] = [:]

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("pressroom-sentinel-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    var configuration: RedisSentinelConfiguration {
        RedisSentinelConfiguration(masterName: masterName, sentinels: sentinelPorts.map { .init(host: "127.0.0.1", port: $0) },
                                   password: password, sentinelPassword: sentinelPassword)
    }

    func start() async throws {
        let server = { (port: Int) in
            ["--bind", "127.0.0.1", "--port", String(port), "--save", "", "--appendonly", "no", "--requirepass", self.password, "--masterauth", self.password]
        }
        let master = try await launch("redis-server") { server($0) }
        let replica = try await launch("redis-server") { server($0) + ["--replicaof", "127.0.0.1", String(master)] }
        serverPorts = [master, replica]
        for index in 0..<3 {
            let port = try await launch("redis-sentinel") { port in
                let file = self.directory.appendingPathComponent("sentinel-\(index)-\(port).conf")
                let conf = """
                    port \(port)
                    bind 127.0.0.1
                    dir \(self.directory.path)
                    sentinel monitor \(self.masterName) 127.0.0.1 \(master) 2
                    sentinel down-after-milliseconds \(self.masterName) 5000
                    sentinel failover-timeout \(self.masterName) 2000
                    sentinel parallel-syncs \(self.masterName) 1
                    sentinel auth-pass \(self.masterName) \(self.password)
                    requirepass \(self.sentinelPassword)
                    sentinel sentinel-pass \(self.sentinelPassword)

                    """
                try? conf.write(to: file, atomically: true, encoding: .utf8)
                return [file.path]
            }
            sentinelPorts.append(port)
        }
        // Ready when every sentinel knows the replica and the other two sentinels, so a failover's new configuration spreads.
        for port in sentinelPorts {
            let client = sentinelClient(port)
            defer { client.shutdown() }
            try await eventually(timeout: .seconds(30), "sentinel \(port) sees the replica and its peers") {
                let replicas = (try? await client.call(["SENTINEL", "replicas", masterName]))?.array ?? []
                let peers = (try? await client.call(["SENTINEL", "sentinels", masterName]))?.array ?? []
                let replicaUp = replicas.contains { reply in
                    let fields = Dictionary(reply.fieldPairs, uniquingKeysWith: { a, _ in a })
                    return fields["port"] == String(replica) && fields["flags"] == "slave" && fields["master-link-status"] == "ok"
                }
                return replicaUp && peers.count == 2
            }
        }
    }

    /// Starts `program` on a kernel-picked port; a port lost to another socket before the server bound it means another try.
    private func launch(_ program: String, arguments: @escaping (Int) -> [String]) async throws -> Int {
        for _ in 1...5 {
            let port = try ClusterRedis.freePort()
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/\(program)")
            process.arguments = arguments(port)
            process.currentDirectoryURL = directory
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            try await eventually(timeout: .seconds(20), "\(program) on \(port)") { !process.isRunning || ClusterRedis.accepts(port: port) }
            if process.isRunning {
                processes[port] = process
                return port
            }
        }
        Issue.record("\(program) did not start")
        throw CancellationError()
    }

    /// A client of one redis-server of this set.
    func client(_ port: Int) -> RedisClient { Self.client(port, password: password) }

    func sentinelClient(_ port: Int) -> RedisClient { Self.client(port, password: sentinelPassword) }

    private static func client(_ port: Int, password: String) -> RedisClient {
        RedisClient(endpoint: RedisEndpoint(address: .tcp(host: "127.0.0.1", port: port), password: password), name: "sentinel-test-\(port)",
                    connectTimeout: .milliseconds(500), commandTimeout: .seconds(2))
    }

    /// What a sentinel says the master's port is.
    func masterPort(asking sentinel: Int) async -> Int? {
        let client = sentinelClient(sentinel)
        defer { client.shutdown() }
        let pair = (try? await client.call(["SENTINEL", "get-master-addr-by-name", masterName]))?.array
        return pair.flatMap { $0.count == 2 ? $0[1].string.flatMap { Int($0) } : nil }
    }

    func kill(port: Int) async {
        guard let process = processes.removeValue(forKey: port) else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        while process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
    }

    func stop() async {
        for port in Array(processes.keys) { await kill(port: port) }
        try? FileManager.default.removeItem(at: directory)
    }
}

/// Jobs flow through a real QueueWorker that reaches Redis through Sentinel while
/// `SENTINEL FAILOVER` promotes the replica and the old master is killed.
@Suite("Redis Sentinel failover")
struct SentinelTests {
    /// Which moment of the failover a producer's XADD was acknowledged in.
    enum Phase: Int, CaseIterable { case before, during, after }

    final class Ledger: Sendable {
        struct State {
            var phase = Phase.before
            var acked: [String: Phase] = [:]
            var runs: [String: Int] = [:]
            var lastAck: ContinuousClock.Instant?
            /// The longest a producer waited between two acknowledged enqueues.
            var longestStall = Duration.zero
        }
        let state = Mutex(State())
        func ack(_ id: String) {
            state.withLock {
                $0.acked[id] = $0.phase
                let now = ContinuousClock.now
                if let last = $0.lastAck { $0.longestStall = max($0.longestStall, now - last) }
                $0.lastAck = now
            }
        }
        func ran(_ id: String) { state.withLock { $0.runs[id, default: 0] += 1 } }
        func enter(_ phase: Phase) { state.withLock { $0.phase = phase } }
        var snapshot: State { state.withLock { $0 } }
        func acked(in phase: Phase) -> Int { state.withLock { $0.acked.values.filter { $0 == phase }.count } }
    }

    @Test func workersCarryOnThroughAFailover() async throws {
        let redis = try SentinelRedis()
        do {
            try await redis.start()
        } catch {
            await redis.stop()
            throw error
        }
        // A sentinel that is down comes first: discovery passes it over and moves the next to the front.
        let down = RedisSentinelConfiguration.Address(host: "127.0.0.1", port: try ClusterRedis.freePort())
        let configuration = RedisSentinelConfiguration(masterName: redis.masterName, sentinels: [down] + redis.configuration.sentinels,
                                                       password: redis.password, sentinelPassword: redis.sentinelPassword)
        let client = RedisClient(topology: .sentinel(configuration), name: "sentinel-producer")
        let namespace = "sentinel-\(UUID().uuidString.prefix(8))"
        let keys = QueueKeys(namespace: namespace, queue: "work")
        let ledger = Ledger()
        var registry = JobRegistry()
        registry.register(JobTypeOptions(type: "t", queue: "work"), handler: ClosureJobHandler { context in
            ledger.ran(context.job.id)
            try await Task.sleep(for: .milliseconds(1))
            return nil
        })
        var logger = Logger(label: "sentinel-test")
        logger.logLevel = .warning
        let worker = QueueWorker(
            configuration: .init(topology: .sentinel(configuration), namespace: namespace, consumer: "w1",
                                 queues: [QueueOptions(name: "work", concurrency: 8, claimMinIdle: .seconds(1))],
                                 drainTimeout: .seconds(5), delayedPollInterval: .milliseconds(50), trimInterval: .seconds(3600)),
            registry: registry, logger: logger)
        let running = Task { () -> Error? in
            do { try await worker.run(); return nil } catch { return error }
        }
        let producing = Atomic<Bool>(true)
        let producer = Task {
            var n = 0
            while producing.load(ordering: .relaxed) {
                let id = "job-\(n)"
                // Retried until acknowledged: what counts is what the producer was told.
                while (try? await QueueAdmin.enqueue(keys: keys, client: client, id: id, type: "t", payload: "{}")) == nil {
                    try? await Task.sleep(for: .milliseconds(20))
                }
                ledger.ack(id)
                n += 1
                try? await Task.sleep(for: .milliseconds(2))
            }
        }
        do {
            // `pressroom status` through Sentinel: master and replica.
            let env = ["PRESSROOM_REDIS_URL": "", "PRESSROOM_REDIS_SENTINEL_MASTER_NAME": redis.masterName,
                       "PRESSROOM_REDIS_SENTINEL_SENTINELS": "[" + configuration.sentinels.map(\.description).joined(separator: ",") + "]",
                       "PRESSROOM_REDIS_SENTINEL_PASSWORD": redis.password, "PRESSROOM_REDIS_SENTINEL_SENTINEL_PASSWORD": redis.sentinelPassword]
            let status = try await DaemonProcessTests().cli(["status"], namespace: namespace, env: env)
            #expect(status.status == 0, "\(status.output)")
            #expect(status.output.contains("sentinel '\(redis.masterName)': master 127.0.0.1:\(redis.serverPorts[0])"), "\(status.output)")
            #expect(status.output.contains("replicas 127.0.0.1:\(redis.serverPorts[1])"), "\(status.output)")
            #expect(status.output.contains("3/4 sentinels answer") && status.output.contains("WARNING: only 3 of 4"), "\(status.output)")
            let check = try await DaemonProcessTests().cli(["config", "check"], namespace: namespace, env: env)
            for output in [status.output, check.output] {
                #expect(!output.contains(redis.password) && !output.contains(redis.sentinelPassword), "a password printed:\n\(output)")
            }

            // The start-up check reads the master found through Sentinel: an evicting one is refused.
            var daemonConfiguration = PressroomConfiguration()
            daemonConfiguration.redis.sentinel = .init(masterName: redis.masterName, sentinels: configuration.sentinels.map(\.description),
                                                       password: redis.password, sentinelPassword: redis.sentinelPassword)
            let daemon = PressroomDaemon(configuration: daemonConfiguration, logger: logger)
            let first = redis.client(redis.serverPorts[0])
            try await first.call(["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"])
            await #expect(throws: ConfigurationLoader.Invalid.self) { try await daemon.checkRedisServer() }
            try await first.call(["CONFIG", "SET", "maxmemory-policy", "noeviction"])
            first.shutdown()
            try await daemon.checkRedisServer()
            // A replica's refusal is a wrong-node error: retried after a new lookup, never a verdict on a job.
            let replica = redis.client(redis.serverPorts[1])
            await #expect { try await replica.call(["XADD", keys.stream, "*", "x", "1"]) } throws: { ($0 as? RedisError)?.isWrongNode == true }
            replica.shutdown()

            try await eventually(timeout: .seconds(30), "jobs flowing") { ledger.snapshot.runs.count >= 200 }
            let oldMaster = redis.serverPorts[0], newMaster = redis.serverPorts[1]
            let started = ContinuousClock.now
            ledger.enter(.during)
            let sentinel = redis.sentinelClient(redis.sentinelPorts[0])
            defer { sentinel.shutdown() }
            var refusals = 0
            try await eventually(timeout: .seconds(30), "SENTINEL FAILOVER accepted") {
                do {
                    try await sentinel.call(["SENTINEL", "FAILOVER", redis.masterName])
                    return true
                } catch {
                    refusals += 1
                    return false
                }
            }
            let accepted = ContinuousClock.now - started
            for port in redis.sentinelPorts {
                try await eventually(timeout: .seconds(30), "sentinel \(port) names the new master") { await redis.masterPort(asking: port) == newMaster }
            }
            let named = ContinuousClock.now - started
            // Until it is demoted the old master takes writes no one will see. Sentinel demotes
            // it some 10 s later, killing its clients' connections; the test demotes it at once
            // and leaves the connections, so clients still on it meet READONLY and UNBLOCKED
            // (unless the once-a-second check that the master moved came first).
            let old = redis.client(oldMaster)
            try await old.call(["REPLICAOF", "127.0.0.1", String(newMaster)])
            old.shutdown()
            try await eventually(timeout: .seconds(30), "the clients learnt the master moved") {
                RedisSentinel.shared(for: configuration).generation > 0
            }
            await redis.kill(port: oldMaster)
            ledger.enter(.after)
            let switched = ContinuousClock.now - started
            try await eventually(timeout: .seconds(30), "jobs acknowledged after the failover") { ledger.acked(in: .after) >= 200 }
            producing.store(false, ordering: .relaxed)
            await producer.value

            // Every acknowledged job completes, unless its entry never reached the new master.
            let direct = redis.client(newMaster)
            defer { direct.shutdown() }
            var onNewMaster = Set<String>()
            try await eventually(timeout: .seconds(60), "every job on the new master completed") {
                onNewMaster = Set(StreamEntry.parseEntries(try await direct.call(["XRANGE", keys.stream, "-", "+"])).compactMap { entry in
                    entry.fields?.first { $0.0 == "id" }?.1
                })
                let state = ledger.snapshot
                return state.acked.keys.allSatisfy { state.runs[$0] != nil || !onNewMaster.contains($0) }
            }
            let state = ledger.snapshot
            // Missing: the enqueue did not reach the new master. Lost: missing and never run.
            var lost: [Phase: Int] = [:], acked: [Phase: Int] = [:], missing: [Phase: Int] = [:]
            for (id, phase) in state.acked {
                acked[phase, default: 0] += 1
                if !onNewMaster.contains(id) { missing[phase, default: 0] += 1 }
                if state.runs[id] == nil { lost[phase, default: 0] += 1 }
            }
            let twice = state.runs.values.filter { $0 > 1 }.count
            let deadLetters = try await direct.call(["XLEN", keys.dead]).int ?? -1
            let figures = Phase.allCases.map { phase in
                "\(phase) \(acked[phase] ?? 0) (missing on the new master \(missing[phase] ?? 0), never run \(lost[phase] ?? 0))"
            }
            print("sentinel failover: enqueues acknowledged " + figures.joined(separator: ", ") + "; "
                  + "ran twice \(twice); dead letters \(deadLetters); FAILOVER accepted after \(accepted) (\(refusals) refusals), "
                  + "new master named by all after \(named), old master demoted and killed after \(switched); "
                  + "longest producer stall \(state.longestStall); "
                  + "sentinel generation \(RedisSentinel.shared(for: configuration).generation)")
            #expect(RedisSentinel.shared(for: configuration).sentinels.first != down, "the sentinel that answered leads")
            #expect(lost[.after] == nil, "a job acknowledged by the new master was lost")
            #expect(deadLetters == 0, "a failover must not dead-letter jobs")
            #expect(worker.phase == .ready, "the worker carries on without a restart")
        } catch {
            producing.store(false, ordering: .relaxed)
            _ = await producer.value
            worker.stop()
            _ = await running.value
            client.shutdown()
            await redis.stop()
            throw error
        }
        worker.stop()
        let exit = await running.value
        #expect(exit == nil, "worker ended with \(String(describing: exit))")
        client.shutdown()
        await redis.stop()
    }
}
