import Foundation
import Logging
import PressroomQueue
import PressroomSupport
import Synchronization

/// Cluster mode of bench/queue (BENCH_CLUSTER=1): no-op jobs through a
/// worker on a local Redis Cluster, with each master's CPU per job, so the
/// spread of the load over the shards shows. Beside it, the raw consume
/// ceiling (XREADGROUP + XACK, no job logic) through the same cluster client.
enum ClusterBench {
    static func run(seeds: String, env: [String: String]) async throws {
        let nodes = seeds.split(separator: ",").compactMap { RedisClusterNode($0) }
        let configuration = RedisClusterConfiguration(seeds: nodes)
        let topology = RedisTopology.cluster(configuration)
        let jobs = Int(env["BENCH_JOBS"] ?? "100000") ?? 100_000
        let concurrency = Int(env["BENCH_CONCURRENCY"]?.split(separator: ",").last ?? "128") ?? 128
        // Partition counts of the Pressroom runs (BENCH_PARTITIONS=1,3): one partition puts
        // the queue on one shard; three spread it when their tags hash to different masters.
        let partitionCounts = (env["BENCH_PARTITIONS"] ?? "1,3").split(separator: ",").compactMap { Int($0) }
        let client = RedisClient(topology: topology, name: "bench-cluster")
        defer { client.shutdown() }
        let map = try await RedisClusterMap.fetch(from: client)
        let shards = map.shards.map { shard in
            (shard, RedisClient(endpoint: configuration.endpoint(shard.master), name: "bench-\(shard.master.port)"))
        }
        defer { shards.forEach { $0.1.shutdown() } }
        print("redis cluster: \(map.shards.count) shards (\(map.masters.map(\.description).joined(separator: " ")))  jobs per run: \(jobs)  partitions: \(partitionCounts.map(String.init).joined(separator: ","))")

        // Raw ceiling: one consumer loop, COUNT 128, on one stream.
        let rawKeys = QueueKeys(namespace: "bench-craw-\(UUID().uuidString.prefix(6))", queue: "q")
        _ = try await QueueBench.fill(client, keys: rawKeys, count: jobs)
        try await QueueAdmin.ensureGroup(keys: rawKeys, client: client)
        let rawCPU0 = try await cpu(shards)
        let rawStart = ContinuousClock.now
        var consumed = 0
        while consumed < jobs {
            let reply = try await client.call(["XREADGROUP", "GROUP", QueueKeys.group, "raw", "COUNT", "128", "STREAMS", rawKeys.stream, ">"])
            let ids = (reply.array?.first?.array?[1].array ?? []).compactMap { $0.array?.first?.string }
            if ids.isEmpty { break }
            try await client.call(["XACK", rawKeys.stream, QueueKeys.group] + ids)
            consumed += ids.count
        }
        let rawRate = Double(consumed) / (ContinuousClock.now - rawStart).seconds
        print(String(format: "%-44@ %10.0f jobs/s   (redis CPU per job: %@)", "raw consume (XREADGROUP COUNT 128 + XACK)" as NSString, rawRate,
                     perShard(try await cpu(shards), rawCPU0, jobs: consumed, shards: shards) as NSString))
        try await QueueBench.cleanup(owner(of: rawKeys, shards).1, rawKeys)

        for partitions in partitionCounts {
            // Partitions land where their tags hash; the bench picks a namespace that puts them
            // on as many masters as there can be, as an operator sizing N for the shards would.
            var layout: QueuePartitions
            repeat {
                layout = QueuePartitions(namespace: "bench-cl-\(UUID().uuidString.prefix(6))", queue: "q", count: partitions)
            } while Set(layout.all.map { owner(of: $0, shards).0.master }).count < min(partitions, shards.count)
            _ = try await QueueBench.fill(client, partitions: layout, count: jobs)
            let run = try await QueueBench.runNoops(topology: topology, layout: layout, jobs: jobs, concurrency: concurrency, client: client) {
                try await cpu(shards)
            }
            let masters = Set(layout.all.map { owner(of: $0, shards).0.master.port }).sorted()
            print(String(format: "%-44@ %10.0f jobs/s   (redis CPU per job: %@)",
                         "pressroom no-op, concurrency \(concurrency), \(partitions) partition(s) on :\(masters.map(String.init).joined(separator: ",:"))" as NSString,
                         run.rate, perShard(run.after, run.before, jobs: jobs, shards: shards) as NSString))
            for keys in layout.all { try await QueueBench.cleanup(owner(of: keys, shards).1, keys) }
        }
    }

    /// Each master's CPU seconds so far.
    static func cpu(_ shards: [(RedisClusterMap.Shard, RedisClient)]) async throws -> [Double] {
        var seconds: [Double] = []
        for (_, node) in shards { seconds.append(try await QueueBench.redisCPU(node)) }
        return seconds
    }

    /// `:7000 4.1 µs (62%), :7001 …`: CPU per job on each master and its share of the total.
    static func perShard(_ after: [Double], _ before: [Double], jobs: Int, shards: [(RedisClusterMap.Shard, RedisClient)]) -> String {
        let spent = zip(after, before).map { $0 - $1 }
        let total = max(spent.reduce(0, +), 1e-9)
        return zip(shards, spent).map { shard, seconds in
            String(format: ":%d %.1f µs (%.0f%%)", shard.0.master.port, seconds / Double(max(1, jobs)) * 1e6, seconds / total * 100)
        }.joined(separator: ", ")
    }

    /// The shard, and a client of its master, holding the partition's slot (its keys are all there).
    static func owner(of keys: QueueKeys, _ shards: [(RedisClusterMap.Shard, RedisClient)]) -> (RedisClusterMap.Shard, RedisClient) {
        let slot = HashSlot.of(keys.stream)
        return shards.first { $0.0.slots.contains { $0.contains(slot) } } ?? shards[0]
    }
}
