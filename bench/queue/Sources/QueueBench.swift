import Foundation
import Logging
import PressroomAdmin
import PressroomSupport
import PressroomQueue
import Synchronization

/// No-op job throughput through Pressroom beside the raw ceiling of the same
/// redis-server, in one run. Not a test: it prints figures, it asserts nothing.
@main
struct QueueBench {
    static func main() async throws {
        // As in production: logfmt logging and Prometheus metrics behind swift-metrics.
        PressroomLogging.bootstrap(format: .logfmt, level: .error)
        _ = PressroomMetrics().bootstrap()
        let env = ProcessInfo.processInfo.environment
        if let seeds = env["BENCH_CLUSTER_SEEDS"] {
            try await ClusterBench.run(seeds: seeds, env: env)
            return
        }
        let endpoint = try RedisEndpoint(url: env["BENCH_REDIS_URL"] ?? "redis://127.0.0.1:6399")
        let jobs = Int(env["BENCH_JOBS"] ?? "100000") ?? 100_000
        let concurrencies = (env["BENCH_CONCURRENCY"] ?? "8,32,128,512").split(separator: ",").compactMap { Int($0) }
        // Partition counts of the Pressroom runs: `1,3` prints both.
        let partitionCounts = (env["BENCH_PARTITIONS"] ?? "1").split(separator: ",").compactMap { Int($0) }
        let client = RedisClient(endpoint: endpoint, name: "bench")
        _ = try await client.call(["PING"])
        print("redis: \(endpoint)  jobs per run: \(jobs)")

        // Raw ceiling 1: pipelined XADD. Raw ceiling 2: XREADGROUP COUNT n +
        // XACK, no job logic, n = 128 and 512 (Pressroom reads up to its free
        // slots at once). A ceiling is the best of the runs: on a shared
        // machine single runs of this serial loop swing by a factor of two.
        var batch = 128
        var rawConsume = 0.0, rawProduce = 0.0, rawRedisPerJob = 0.0, rawBatch = 0
        var consumed = 0
        for run in 0..<4 {
            let batch = run % 2 == 0 ? 128 : 512
            let rawKeys = QueueKeys(namespace: "bench-raw-\(UUID().uuidString.prefix(6))", queue: "q")
            rawProduce = max(rawProduce, Double(jobs) / (try await fill(client, keys: rawKeys, count: jobs)))
            try await QueueAdmin.ensureGroup(keys: rawKeys, client: client)
            consumed = 0
            let rawRedis0 = try await redisCPU(client)
            let start = ContinuousClock.now
            while consumed < jobs {
                let reply = try await client.call(["XREADGROUP", "GROUP", QueueKeys.group, "raw", "COUNT", String(batch), "STREAMS", rawKeys.stream, ">"])
                let ids = (reply.array?.first?.array?[1].array ?? []).compactMap { $0.array?.first?.string }
                if ids.isEmpty { break }
                try await client.call(["XACK", rawKeys.stream, QueueKeys.group] + ids)
                consumed += ids.count
            }
            let rate = Double(consumed) / (ContinuousClock.now - start).seconds
            if rate > rawConsume {
                rawConsume = rate
                rawBatch = batch
                rawRedisPerJob = (try await redisCPU(client) - rawRedis0) / Double(max(1, consumed)) * 1e6
            }
            try await cleanup(client, rawKeys)
        }
        print(String(format: "%-44@ %10.0f entries/s", "raw produce (pipelined XADD, best of 4)" as NSString, rawProduce))
        print(String(format: "%-44@ %10.0f jobs/s   (CPU per job: redis-server %.1f µs)",
                     "raw consume (XREADGROUP COUNT 128|512 + XACK, best of 4: COUNT \(rawBatch))" as NSString, rawConsume, rawRedisPerJob))
        batch = rawBatch

        // The same loop doing the Redis work Pressroom does per job (the job
        // state key's SET NX GET on admission, then one MULTI with XACK, the
        // completed-id record and the event), still with no job logic: the
        // ceiling of the protocol itself, to tell engine overhead from it.
        let protocolKeys = QueueKeys(namespace: "bench-proto-\(UUID().uuidString.prefix(6))", queue: "q")
        _ = try await fill(client, keys: protocolKeys, count: jobs)
        try await QueueAdmin.ensureGroup(keys: protocolKeys, client: client)
        consumed = 0
        let protocolRedis0 = try await redisCPU(client)
        let protocolStart = ContinuousClock.now
        while consumed < jobs {
            let reply = try await client.call(["XREADGROUP", "GROUP", QueueKeys.group, "proto", "COUNT", String(batch), "STREAMS", protocolKeys.stream, ">"])
            let entries = (reply.array?.first?.array?[1].array ?? []).compactMap { entry -> (String, String)? in
                guard let id = entry.array?.first?.string, let fields = entry.array?.last?.fieldPairs,
                      let jobID = fields.first(where: { $0.0 == "id" })?.1 else { return nil }
                return (id, jobID)
            }
            if entries.isEmpty { break }
            var admit = RESPPipeline()
            for (_, jobID) in entries {
                admit.append(["SET", protocolKeys.job(jobID), #"{"status":"running","consumer":"proto"}"#, "NX", "GET", "PX", "60000"])
            }
            _ = try await client.send(admit)
            var complete = RESPPipeline()
            complete.append(["MULTI"])
            complete.append(["XACK", protocolKeys.stream, QueueKeys.group] + entries.map(\.0))
            let now = String(Int64(Date().timeIntervalSince1970 * 1000))
            for (_, jobID) in entries {
                complete.append(["SET", protocolKeys.job(jobID), #"{"status":"succeeded","attempt":1,"finished_at":\#(now),"result":null}"#, "EX", "604800"])
            }
            for (id, jobID) in entries {
                complete.append(["XADD", protocolKeys.events, "MAXLEN", "~", "100000", "*", "event", "succeeded", "id", jobID, "type", "noop",
                                 "queue", "q", "entry", id, "attempt", "1", "consumer", "proto", "at", now, "duration_ms", "0", "result", "null"])
            }
            complete.append(["EXEC"])
            _ = try await client.send(complete)
            consumed += entries.count
        }
        let protocolRate = Double(consumed) / (ContinuousClock.now - protocolStart).seconds
        let protocolRedisPerJob = (try await redisCPU(client) - protocolRedis0) / Double(max(1, consumed)) * 1e6
        print(String(format: "%-44@ %10.0f jobs/s   (CPU per job: redis-server %.1f µs)",
                     "same loop + Pressroom's Redis work per job" as NSString, protocolRate, protocolRedisPerJob))
        try await cleanup(client, protocolKeys)

        var best = 0.0
        for (partitions, concurrency) in partitionCounts.flatMap({ p in concurrencies.map { (p, $0) } }) {
            let layout = QueuePartitions(namespace: "bench-pr-\(UUID().uuidString.prefix(6))", queue: "q", count: partitions)
            _ = try await fill(client, partitions: layout, count: jobs)
            let run = try await runNoops(topology: .single(endpoint), layout: layout, jobs: jobs, concurrency: concurrency, client: client) {
                (ProcessCPUTime.now(), try await redisCPU(client))
            }
            let rate = run.rate
            let cpuPerJob = (run.after.0 - run.before.0).seconds / Double(jobs) * 1e6
            let redisPerJob = (run.after.1 - run.before.1) / Double(jobs) * 1e6
            best = max(best, rate)
            print(String(format: "%-44@ %10.0f jobs/s   (CPU per job: pressroom %.1f µs, redis-server %.1f µs)",
                         "pressroom no-op, concurrency \(concurrency)\(partitions > 1 ? ", \(partitions) partitions" : "")" as NSString,
                         rate, cpuPerJob, redisPerJob))
            for part in layout.all { try await cleanup(client, part) }
        }
        print(String(format: "pressroom/raw-consume ratio: %.2f", best / rawConsume))
        client.shutdown()
    }

    /// Runs a no-op worker over `layout` until all `jobs` are finished and
    /// acknowledged; `sample` is taken once the worker is ready and again at
    /// the end (CPU counters), before the worker stops. Shared by the single
    /// server and the cluster runs.
    static func runNoops<Sample: Sendable>(topology: RedisTopology, layout: QueuePartitions, jobs: Int, concurrency: Int, client: RedisClient,
                                           sample: @Sendable () async throws -> Sample) async throws -> (rate: Double, before: Sample, after: Sample) {
        let done = Atomic<Int>(0)
        var registry = JobRegistry()
        registry.register(JobTypeOptions(type: "noop", queue: "q"), handler: ClosureJobHandler { _ in
            done.add(1, ordering: .relaxed)
            return nil
        })
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let worker = QueueWorker(
            configuration: .init(topology: topology, namespace: layout.namespace, consumer: "bench",
                                 queues: [QueueOptions(name: "q", concurrency: concurrency, partitions: layout.count)]),
            registry: registry, logger: logger)
        let task = Task { try await worker.run() }
        while worker.phase != .ready { try await Task.sleep(for: .milliseconds(5)) }
        let before = try await sample()
        let t0 = ContinuousClock.now
        while done.load(ordering: .relaxed) < jobs { try await Task.sleep(for: .milliseconds(2)) }
        // Wait for the last acknowledgements too: the figure is for finished jobs.
        for part in layout.all {
            while (try await client.call(["XPENDING", part.stream, QueueKeys.group]).array?.first?.int ?? 1) > 0 {
                try await Task.sleep(for: .milliseconds(2))
            }
        }
        let rate = Double(jobs) / (ContinuousClock.now - t0).seconds
        let after = try await sample()
        worker.stop()
        _ = try await task.value
        return (rate, before, after)
    }

    /// Pipelined XADD of `count` no-op jobs in the documented wire format,
    /// each on its id's partition.
    static func fill(_ client: RedisClient, keys: QueueKeys, count: Int) async throws -> Double {
        try await fill(client, partitions: QueuePartitions(namespace: keys.namespace, queue: keys.queue), count: count)
    }

    static func fill(_ client: RedisClient, partitions: QueuePartitions, count: Int) async throws -> Double {
        let start = ContinuousClock.now
        let chunk = 1000
        var sent = 0
        while sent < count {
            let n = min(chunk, count - sent)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in sent..<(sent + n) {
                    group.addTask {
                        let fields = WireFormat.fields(id: "job-\(i)", type: "noop", payload: "{}")
                        try await client.call(["XADD", partitions.keys(forJob: "job-\(i)").stream, "*"] + fields.flatMap { [$0.0, $0.1] })
                    }
                }
                try await group.waitForAll()
            }
            sent += n
        }
        return (ContinuousClock.now - start).seconds
    }

    /// redis-server's CPU seconds so far (user + system), from INFO.
    static func redisCPU(_ client: RedisClient) async throws -> Double {
        let info = try await client.call(["INFO", "cpu"]).string ?? ""
        var total = 0.0
        for line in info.split(whereSeparator: \.isNewline) {
            let parts = line.split(separator: ":")
            if parts.count == 2, parts[0] == "used_cpu_sys" || parts[0] == "used_cpu_user" {
                total += Double(parts[1].trimmingCharacters(in: .whitespaces)) ?? 0
            }
        }
        return total
    }

    static func cleanup(_ client: RedisClient, _ keys: QueueKeys) async throws {
        try await client.call(["DEL", keys.stream, keys.events, keys.dead, keys.delayed])
        // Job state keys: remove them so repeated runs do not fill Redis. DEL,
        // not UNLINK: freeing in the background would eat into the next run.
        var cursor = "0"
        repeat {
            let tag = keys.partition == 0 ? "\(keys.namespace):\(keys.queue)" : "\(keys.namespace):\(keys.queue):\(keys.partition)"
            let reply = try await client.call(["SCAN", cursor, "MATCH", "{\(tag)}:*", "COUNT", "1000"])
            cursor = reply.array?[0].string ?? "0"
            let found = reply.array?[1].array?.compactMap(\.string) ?? []
            if !found.isEmpty { try await client.call(["DEL"] + found) }
        } while cursor != "0"
    }
}
