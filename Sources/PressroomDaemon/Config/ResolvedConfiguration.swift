import Foundation
import PressroomFulfillment
import PressroomQueue

/// Turns the file's shape into the engine's option types.
extension PressroomConfiguration {
    public var endpoint: RedisEndpoint {
        get throws {
            var endpoint = try RedisEndpoint(url: redis.url ?? Redis.defaultURL)
            if let password = redis.password { endpoint.password = password }
            return endpoint
        }
    }

    /// How every client of this process reaches Redis (``RedisTopology``).
    public var redisTopology: RedisTopology {
        get throws {
            if let cluster = redis.cluster {
                let seeds = try cluster.seeds.map { seed in
                    guard let node = RedisClusterNode(Substring(seed)) else {
                        throw ConfigurationLoader.Invalid(field: "redis.cluster.seeds", problem: "'\(seed)' is not host:port")
                    }
                    return node
                }
                return .cluster(RedisClusterConfiguration(seeds: seeds, password: cluster.password ?? redis.password))
            }
            guard let sentinel = redis.sentinel else { return .single(try endpoint) }
            return .sentinel(RedisSentinelConfiguration(
                masterName: sentinel.masterName,
                sentinels: try sentinel.sentinels.map { try RedisSentinelConfiguration.Address(parsing: $0) },
                password: sentinel.password ?? redis.password,
                sentinelPassword: sentinel.sentinelPassword))
        }
    }

    /// The consumer name: config/env/flag, else the host name.
    public var consumerName: String {
        consumer ?? ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "pressroom"
    }

    public var queueOptions: [QueueOptions] {
        queues.keys.sorted().map { name in
            let q = queues[name]!
            let trim: TrimPolicy
            if let age = q.trim.maxAge { trim = .maxAge(age.duration) }
            else if let length = q.trim.maxLength { trim = .maxLength(length) }
            else { trim = .none }
            return QueueOptions(name: name, concurrency: q.concurrency, batchSize: q.batchSize, block: q.block.duration,
                                batchWait: q.batchWait.duration, claimMinIdle: q.claimMinIdle.duration, maxDeliveries: q.maxDeliveries,
                                completedTTL: q.completedTTL.duration, eventsMaxLength: q.eventsMaxLength, trim: trim,
                                partitions: q.partitions, drainPartitions: q.drainPartitions)
        }
    }

    /// Job types with their queue and retry policy. `sleep` is added on the
    /// first queue (alphabetically) when diagnostics are on and it is not configured.
    public var jobTypeOptions: [JobTypeOptions] {
        var result = jobs.keys.sorted().map { type in
            let job = jobs[type]!
            return JobTypeOptions(type: type, queue: job.queue, retry: job.retryPolicy, timeout: job.timeout?.duration)
        }
        // With vendors configured, the fulfilment types run on the fulfil queue
        // unless `jobs:` says otherwise.
        if !vendors.isEmpty {
            let defaults: [(String, RetryPolicy, Duration?)] = [
                (OrderJob.type, RetryPolicy(maxAttempts: 8, initialBackoff: .seconds(2), maxBackoff: .seconds(300)), .seconds(120)),
                (FulfillJob.type, RetryPolicy(maxAttempts: 12, initialBackoff: .seconds(2), maxBackoff: .seconds(600)), nil),
                (VendorEventJob.type, RetryPolicy(maxAttempts: 8, initialBackoff: .seconds(5), maxBackoff: .seconds(300)), .seconds(120)),
                (ReconcileJob.type, RetryPolicy(maxAttempts: 3, initialBackoff: .seconds(10), maxBackoff: .seconds(60)), .seconds(600)),
            ]
            for (type, retry, timeout) in defaults where jobs[type] == nil {
                result.append(JobTypeOptions(type: type, queue: FulfillmentJobs.queue, retry: retry, timeout: timeout))
            }
        }
        if diagnostics, jobs[SleepJob.type] == nil, let first = queues.keys.sorted().first {
            result.append(JobTypeOptions(type: SleepJob.type, queue: first, retry: RetryPolicy(maxAttempts: 3, initialBackoff: .milliseconds(200))))
        }
        return result
    }

    /// Adopts a systemd instance name (`%i`): a numeric instance N listens on
    /// `admin.port + N`, so `pressroom@{1..4}` on one host never share a port.
    public mutating func adopt(instance: String) throws {
        guard let number = Int(instance), number >= 0 else { return }
        guard admin.port > 0 else { return }  // 0: the kernel picks a port anyway
        guard admin.port + number <= 65535 else {
            throw ConfigurationLoader.Invalid(field: "admin.port", problem: "\(admin.port) + instance \(number) is above 65535")
        }
        admin.port += number
    }

    /// Where a queue's partitions live (one, `{ns:queue}`, unless configured).
    public func partitions(ofQueue queue: String) -> QueuePartitions {
        let q = queues[queue]
        return QueuePartitions(namespace: redis.namespace, queue: queue, count: q?.partitions ?? 1, drainFrom: q?.drainPartitions)
    }

    /// The queue `fulfill` jobs go to: its slot (per partition) holds the order records.
    public var fulfilQueue: String {
        jobTypeOptions.first { $0.type == FulfillJob.type }?.queue ?? FulfillmentJobs.queue
    }

    /// Where orders' records, timelines and costs live.
    public var orderKeys: OrderKeys { OrderKeys(partitions: partitions(ofQueue: fulfilQueue)) }
}
