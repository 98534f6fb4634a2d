import Foundation
import Logging
@testable import PressroomDaemon
import PressroomQueue
import Synchronization
import Testing

/// Resharding and failover on a ``ClusterRedis`` of several nodes, the way an operator does them.
extension ClusterRedis {
    func nodeID(_ port: Int) async throws -> String {
        let client = try nodeClient(port)
        defer { client.shutdown() }
        return try await client.call(["CLUSTER", "MYID"]).string ?? ""
    }

    /// The slot map as node `port` sees it (by default the first node's view).
    func map(from port: Int? = nil) async throws -> RedisClusterMap {
        let client = try nodeClient(port ?? self.port)
        defer { client.shutdown() }
        return try RedisClusterMap(shardsReply: try await client.call(["CLUSTER", "SHARDS"]))
    }

    /// The port of the master serving `slot`, and of one of its replicas.
    func owner(ofSlot slot: Int, asking port: Int? = nil) async throws -> (master: Int, replica: Int?) {
        let map = try await map(from: port)
        let shard = map.shards.first { $0.slots.contains { $0.contains(slot) } }
        guard let shard else { throw RedisError.protocolViolation("slot \(slot) is not served") }
        return (shard.master.port, shard.replicas.first?.port)
    }

    /// Waits for the replica on `port` to be promoted after its master crashed. The cluster's own
    /// election (node timeout, then votes) normally does it within seconds; on a starved machine a
    /// vote round can be lost and the next comes only after twice the node timeout, so after 45 s
    /// the test forces it (`CLUSTER FAILOVER TAKEOVER`). Either way what is tested is the client's
    /// move to the new master, not Redis's election.
    func awaitPromotion(of port: Int) async throws {
        let replica = try nodeClient(port, name: "cluster-promotion")
        defer { replica.shutdown() }
        func isMaster() async -> Bool { (try? await replica.call(["ROLE"]))?.array?.first?.string == "master" }
        let deadline = ContinuousClock.now + .seconds(45)
        while ContinuousClock.now < deadline {
            if await isMaster() { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        let info = (try? await replica.call(["CLUSTER", "INFO"]).string) ?? "?"
        print("the cluster did not elect replica \(port) in 45 s; forcing it. Its CLUSTER INFO:\n\(info)")
        try await replica.call(["CLUSTER", "FAILOVER", "TAKEOVER"])
        try await eventually(timeout: .seconds(60), "replica \(port) is master") { await isMaster() }
    }

    /// Moves `slot` to the master on `target` as `redis-cli --cluster reshard` does:
    /// IMPORTING on the target, MIGRATING on the source, `MIGRATE … KEYS` a few keys at a
    /// time (clients meanwhile meet ASK and TRYAGAIN), then `SETSLOT … NODE` on every master.
    func moveSlot(_ slot: Int, to target: Int, keysPerBatch: Int = 5) async throws {
        let source = try await owner(ofSlot: slot).master
        let sourceID = try await nodeID(source), targetID = try await nodeID(target)
        let from = try nodeClient(source, name: "reshard-source"), to = try nodeClient(target, name: "reshard-target")
        defer { from.shutdown(); to.shutdown() }
        try await to.call(["CLUSTER", "SETSLOT", String(slot), "IMPORTING", sourceID])
        try await from.call(["CLUSTER", "SETSLOT", String(slot), "MIGRATING", targetID])
        while true {
            let keys = try await from.call(["CLUSTER", "GETKEYSINSLOT", String(slot), String(keysPerBatch)]).array?.compactMap(\.string) ?? []
            if keys.isEmpty { break }
            try await from.call(["MIGRATE", "127.0.0.1", String(target), "", "0", "5000", "KEYS"] + keys)
            try await Task.sleep(for: .milliseconds(10))
        }
        let masters = try await map().masters.map(\.port)
        for port in [target, source] + masters.filter({ $0 != target && $0 != source }) {
            let client = try nodeClient(port, name: "reshard-final")
            defer { client.shutdown() }
            try await client.call(["CLUSTER", "SETSLOT", String(slot), "NODE", targetID])
        }
    }

    /// `CLUSTER FAILOVER` on a replica: it takes its master's slots once it has caught up
    /// (nothing acknowledged is lost); waits until the cluster agrees.
    func promote(_ replica: Int) async throws {
        let client = try nodeClient(replica, name: "failover")
        defer { client.shutdown() }
        try await client.call(["CLUSTER", "FAILOVER"])
        try await eventually(timeout: .seconds(30), "replica on \(replica) promoted") {
            try await client.call(["ROLE"]).array?.first?.string == "master"
        }
        try await waitUntilSettled()
    }
}

/// Pressroom on a real Redis Cluster of 3 masters and 3 replicas: commands routed by hash
/// slot, and a worker that loses no job and runs none twice while the busy queue's slot
/// moves to another master or its master fails over to a replica.
@Suite("redis cluster", .serialized)
struct ClusterTests {
    /// A cluster of 3 masters with a replica each for `body`; stopped afterwards, whatever happens.
    static func withCluster(_ body: (ClusterRedis) async throws -> Void) async throws {
        let cluster = try ClusterRedis(masters: 3, replicasPerMaster: 1)
        do {
            try await cluster.start()
            try await body(cluster)
        } catch {
            await cluster.stop()
            throw error
        }
        await cluster.stop()
    }

    @Test func commandsGoToTheNodeOfTheirSlot() async throws {
        try await Self.withCluster { cluster in
            let client = RedisClient(topology: cluster.topology, name: "cluster-routing")
            defer { client.shutdown() }
            let probe = try cluster.nodeClient(cluster.port)
            defer { probe.shutdown() }
            // Our slots are the server's, tags included.
            for key in ["foo", "{pressroom:derive}:jobs", "{pressroom:derive}:job:1", "a{b}c", "{}x", "{x", "ü-ñ", "job:\(UUID())"] {
                #expect(try await probe.call(["CLUSTER", "KEYSLOT", key]).int == Int64(HashSlot.of(key)), "\(key)")
            }
            // Keys on every master, written in one batch of concurrent sends and read back.
            let keys = (0..<60).map { "k\($0)" }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for key in keys { group.addTask { try await client.call(["SET", key, "v-\(key)"]) } }
                try await group.waitForAll()
            }
            let owners = Set(try await cluster.map().shards.filter { shard in keys.contains { key in shard.slots.contains { $0.contains(HashSlot.of(key)) } } }.map(\.master))
            #expect(owners.count == 3, "the keys spread over every master")
            for key in keys { #expect(try await client.call(["GET", key]).string == "v-\(key)") }
            // Each went straight to its slot's master: no node had to redirect one.
            for port in cluster.ports {
                #expect(try await Self.redirects(cluster, port: port)["MOVED"] == nil, "node \(port) redirected")
            }
            // A pipeline across slots: each command to its node, replies in order.
            var pipeline = RESPPipeline()
            for key in keys.prefix(10) { pipeline.append(["GET", key]) }
            #expect(try await client.send(pipeline).map(\.string) == keys.prefix(10).map { "v-\($0)" })
            // A transaction routed by its first key; scripts by their first declared key.
            var transaction = RESPPipeline()
            transaction.append(CollectionOfOne("MULTI"))
            transaction.append(["INCR", "{t}:a"])
            transaction.append(["INCR", "{t}:b"])
            transaction.append(CollectionOfOne("EXEC"))
            #expect(try await client.send(transaction).last?.array?.map(\.int) == [1, 1])
            let script = RedisScript(name: "t", source: "return redis.call('INCRBY', KEYS[1], ARGV[1])")
            #expect(try await script.run(on: client, keys: ["{s}:n"], args: ["5"]).int == 5)
            #expect(try await script.run(on: client, keys: ["{s}:n"], args: ["5"]).int == 10)
            #expect(try await client.call(["PING"]).string == "PONG")
            // SCRIPT LOAD reaches every master, so EVALSHA finds the script on any shard.
            let loaded = RedisScript(name: "loaded", source: "return 7")
            #expect(try await client.call(["SCRIPT", "LOAD", loaded.source]).string == loaded.sha1)
            for master in try await cluster.map().masters {
                let node = try cluster.nodeClient(master.port)
                defer { node.shutdown() }
                #expect(try await node.call(["SCRIPT", "EXISTS", loaded.sha1]).array?.first?.int == 1, "on \(master)")
            }

            // `pressroom status` lists the shards with their slots; the start-up check reads every master.
            let status = try await DaemonProcessTests().cli(["status"], namespace: "cluster-status", env: cluster.daemonEnvironment)
            #expect(status.status == 0, "\(status.output)")
            let shardLines = status.output.split(separator: "\n").filter { $0.hasPrefix("redis cluster shard ") }
            #expect(shardLines.count == 3 && shardLines.allSatisfy { $0.contains(" slots ") && $0.contains("replicas 127.0.0.1:") }, "\(status.output)")
            #expect(status.output.contains("slots 0-5460 (5461)"), "\(status.output)")
            let evicting = try await cluster.map().masters[2]
            let third = try cluster.nodeClient(evicting.port)
            defer { third.shutdown() }
            try await third.call(["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"])
            var configuration = PressroomConfiguration()
            configuration.redis.cluster = .init(seeds: cluster.ports.prefix(1).map { "127.0.0.1:\($0)" })
            await #expect {
                try await PressroomDaemon(configuration: configuration, logger: Logger(label: "cluster-check")).checkRedisServer()
            } throws: { "\($0)".contains("\(evicting): redis maxmemory-policy is 'allkeys-lru'") }
        }
    }

    /// A slot without a master answers CLUSTERDOWN: the client backs off and retries a few
    /// times, then reports an outage (a connection error), and works again once the slot is served.
    @Test func anUnservedSlotIsAnOutageUntilItIsServedAgain() async throws {
        try await HashSlotTests.withCluster(client: "unserved") { cluster, node in
            let client = RedisClient(topology: cluster.topology, name: "cluster-down")
            defer { client.shutdown() }
            try await client.call(["SET", "foo", "1"])
            try await node.call(["CLUSTER", "DELSLOTS", String(HashSlot.of("foo"))])
            await #expect {
                try await client.call(["GET", "foo"])
            } throws: { error in
                (error as? RedisError)?.kind == .connection && "\(error)".contains("CLUSTERDOWN")
            }
            try await node.call(["CLUSTER", "ADDSLOTS", String(HashSlot.of("foo"))])
            try await eventually(timeout: .seconds(30), "the slot served again") { (try? await client.call(["GET", "foo"]))?.string == "1" }
        }
    }

    /// A crashed master is an outage of its slots (a connection error, the client's health
    /// down) until the cluster promotes its replica; then the same client carries on there.
    @Test func aKilledMasterIsAnOutageUntilItsReplicaTakesOver() async throws {
        try await Self.withCluster { cluster in
            var logger = Logger(label: "cluster-kill")
            logger.logLevel = .critical
            let health = RedisHealth(logger: logger)
            let client = RedisClient(topology: cluster.topology, name: "cluster-kill", connectTimeout: .milliseconds(500),
                                     commandTimeout: .seconds(2), health: health)
            defer { client.shutdown() }
            try await client.call(["SET", "foo", "1"])
            let (master, replica) = try await cluster.owner(ofSlot: HashSlot.of("foo"))
            // Replication is asynchronous: unless the replica has the key before the crash, it takes over without it.
            let writer = try cluster.nodeClient(master, name: "cluster-kill-writer")
            try await writer.call(["SET", "foo", "1"])
            #expect(try await writer.call(["WAIT", "1", "10000"]).int == 1, "the replica acknowledged the write")
            writer.shutdown()
            cluster.crash(port: master)
            await #expect(throws: RedisError.self) { try await client.call(["GET", "foo"]) }
            // The client reports its health once the waiters have their replies: soon after, not before.
            try await eventually(timeout: .seconds(10), "health down") { !health.isUp }
            if let replica { try await cluster.awaitPromotion(of: replica) }
            try await eventually(timeout: .seconds(60), "the client reads from the promoted replica") { (try? await client.call(["GET", "foo"]))?.string == "1" }
            try await eventually(timeout: .seconds(10), "health up again") { health.isUp }
            let survivor = try #require(cluster.ports.first { $0 != master })
            #expect(try await cluster.owner(ofSlot: HashSlot.of("foo"), asking: survivor).master == replica)
        }
    }

    /// Counts handler runs per job id.
    final class Runs: Sendable {
        private let counts = Mutex<[String: Int]>([:])
        func record(_ id: String) { counts.withLock { $0[id, default: 0] += 1 } }
        var all: [String: Int] { counts.withLock { $0 } }
    }

    /// A real worker on the cluster while `jobs` jobs are enqueued a few at a time; `during`
    /// starts once a third of them is in, beside the producer. Every job succeeds, each handler runs once, each job
    /// has one success event, nothing is left pending or dead.
    static func run(on cluster: ClusterRedis, jobs: Int = 240, namespace: String = "cl\(UUID().uuidString.prefix(6))", partitions count: Int = 1,
                    during: @escaping @Sendable (QueueKeys) async throws -> Void) async throws {
        let partitions = QueuePartitions(namespace: namespace, queue: "derive", count: count)
        let keys = partitions.keys(0)
        let runs = Runs()
        var registry = JobRegistry()
        registry.register(JobTypeOptions(type: "t", queue: "derive"), handler: ClosureJobHandler { context in
            runs.record(context.job.id)
            try await Task.sleep(for: .milliseconds(2))
            return nil
        })
        var logger = Logger(label: "cluster-test")
        logger.logLevel = .warning
        let worker = QueueWorker(
            configuration: .init(topology: cluster.topology, namespace: namespace, consumer: "c1",
                                 queues: [QueueOptions(name: "derive", concurrency: 8, block: .milliseconds(500), partitions: count)],
                                 drainTimeout: .seconds(5), delayedPollInterval: .milliseconds(100)),
            registry: registry, logger: logger)
        let task = Task { try await worker.run() }
        let client = RedisClient(topology: cluster.topology, name: "cluster-producer")
        defer { client.shutdown() }
        do {
            try await eventually(timeout: .seconds(30), "worker ready") { worker.phase == .ready }
            let ids = (0..<jobs).map { "j\($0)" }
            var disruption: Task<Void, Error>?
            for (index, id) in ids.enumerated() {
                try await QueueAdmin.enqueue(partitions: partitions, client: client, id: id, type: "t", payload: "{}")
                // Beside the producer and the worker, so both meet it.
                if index == jobs / 3 { disruption = Task { try await during(keys) } }
                if index % 2 == 1 { try await Task.sleep(for: .milliseconds(5)) }
            }
            try await disruption?.value
            func succeeded() async throws -> [String] {
                var ids: [String] = []
                for keys in partitions.all {
                    ids += StreamEntry.parseEntries(try await client.call(["XRANGE", keys.events, "-", "+"]))
                        .compactMap { entry -> String? in
                            let fields = Dictionary(entry.fields ?? [], uniquingKeysWith: { a, _ in a })
                            return fields["event"] == "succeeded" ? fields["id"] : nil
                        }
                }
                return ids
            }
            try await eventually(timeout: .seconds(60), "every job succeeded") { Set(try await succeeded()).count == jobs }
            worker.stop()
            try await task.value
            let events = try await succeeded()
            #expect(events.count == jobs, "one success event per job (\(events.count) for \(jobs))")
            let counts = runs.all
            #expect(counts.count == jobs && counts.values.allSatisfy { $0 == 1 }, "each job ran once: \(counts.filter { $0.value != 1 })")
            for keys in partitions.all {
                #expect(try await client.call(["XPENDING", keys.stream, QueueKeys.group]).array?.first?.int == 0)
                #expect(try await client.call(["XLEN", keys.dead]).int == 0)
            }
        } catch {
            worker.stop()
            _ = try? await task.value
            throw error
        }
    }

    /// The redirects a node answered (`INFO errorstats`: `errorstat_ASK:count=3` → ["ASK": 3]).
    static func redirects(_ cluster: ClusterRedis, port: Int) async throws -> [String: Int] {
        let client = try cluster.nodeClient(port)
        defer { client.shutdown() }
        let fields = RedisServerReport.parseInfo(try await client.call(["INFO", "errorstats"]).string ?? "")
        return Dictionary(uniqueKeysWithValues: fields.compactMap { name, value -> (String, Int)? in
            guard name.hasPrefix("errorstat_"), let count = value.split(separator: "=").last.flatMap({ Int($0) }) else { return nil }
            return (String(name.dropFirst("errorstat_".count)), count)
        })
    }

    @Test func aWorkerRunsJobsWhileTheQueueSlotMovesToAnotherMaster() async throws {
        try await Self.withCluster { cluster in
            let moved = Mutex<(source: Int, target: Int)?>(nil)
            try await Self.run(on: cluster) { keys in
                let slot = HashSlot.of(keys.stream)
                let source = try await cluster.owner(ofSlot: slot).master
                let target = try await cluster.map().masters.map(\.port).first { $0 != source }!
                try await cluster.moveSlot(slot, to: target)
                #expect(try await cluster.owner(ofSlot: slot).master == target)
                moved.withLock { $0 = (source, target) }
            }
            // The clients met the migration (ASK for keys already moved) and its end (MOVED).
            let (source, _) = try #require(moved.withLock { $0 })
            let answered = try await Self.redirects(cluster, port: source)
            print("redirects answered by the old master during the resharding: \(answered)")
            #expect(answered["ASK", default: 0] > 0 && answered["MOVED", default: 0] > 0, "\(answered)")
        }
    }

    /// A queue of 3 partitions, one on each shard: every job runs once, and every master serves some.
    @Test func aWorkerRunsAQueueOfThreePartitionsAcrossTheShards() async throws {
        try await Self.withCluster { cluster in
            let map = try await cluster.map()
            // A namespace whose three partition tags hash to the three masters.
            var namespace = ""
            repeat {
                namespace = "cl\(UUID().uuidString.prefix(6))"
                let partitions = QueuePartitions(namespace: namespace, queue: "derive", count: 3)
                let owners = Set(partitions.all.compactMap { map.master(forSlot: HashSlot.of($0.stream)) })
                if owners.count == 3 { break }
            } while true
            try await Self.run(on: cluster, namespace: namespace, partitions: 3) { _ in }
            let client = RedisClient(topology: cluster.topology, name: "partition-check")
            defer { client.shutdown() }
            for keys in QueuePartitions(namespace: namespace, queue: "derive", count: 3).all {
                #expect(try await client.call(["XLEN", keys.events]).int ?? 0 > 0, "partition \(keys.stream) ran jobs")
            }
        }
    }

    @Test func aWorkerRunsJobsWhileAReplicaTakesOverTheQueueMaster() async throws {
        try await Self.withCluster { cluster in
            let demoted = Mutex<Int?>(nil)
            try await Self.run(on: cluster) { keys in
                let slot = HashSlot.of(keys.stream)
                let (master, replica) = try await cluster.owner(ofSlot: slot)
                let promoted = try #require(replica)
                try await cluster.promote(promoted)
                #expect(try await cluster.owner(ofSlot: slot).master == promoted)
                #expect(promoted != master)
                demoted.withLock { $0 = master }
            }
            // The clients were sent on by the old master (now a replica).
            let old = try #require(demoted.withLock { $0 })
            let answered = try await Self.redirects(cluster, port: old)
            print("redirects answered by the demoted master: \(answered)")
            #expect(answered["MOVED", default: 0] + answered["UNBLOCKED", default: 0] > 0, "\(answered)")
        }
    }
}
