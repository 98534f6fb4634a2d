/// Redis key names of one partition of a queue. Every key of partition 0
/// shares the `{namespace:queue}` hash tag (the layout of unpartitioned
/// queues), partition p ≥ 1 the `{namespace:queue:p}` tag, so multi-key
/// scripts stay in one Redis Cluster slot (see ``QueuePartitions``).
public struct QueueKeys: Sendable, Equatable {
    public let namespace: String
    public let queue: String
    public let partition: Int
    private let prefix: String

    public init(namespace: String, queue: String, partition: Int = 0) {
        self.namespace = namespace
        self.queue = queue
        self.partition = partition
        self.prefix = partition == 0 ? "{\(namespace):\(queue)}:" : "{\(namespace):\(queue):\(partition)}:"
    }

    /// The stream producers XADD jobs to.
    public var stream: String { prefix + "jobs" }
    /// Dead letters: what could not be finished, with the reason.
    public var dead: String { prefix + "dead" }
    /// Sorted set of retries waiting for their backoff (score = due time, ms).
    public var delayed: String { prefix + "delayed" }
    /// Outcomes (succeeded, retrying, dead_lettered) for the frontend to read.
    public var events: String { prefix + "events" }
    /// Live consumers: member = consumer name, score = last heartbeat (ms).
    /// XINFO's idle time cannot tell a quiet consumer from a dead one on Redis 7.0.
    public var consumers: String { prefix + "consumers" }
    /// A live consumer's trouble worth an operator's eye (its admin port
    /// could not be bound...), shown by `pressroom status`; expires with it.
    public func consumerNotice(_ consumer: String) -> String { prefix + "notice:" + consumer }
    /// A live consumer's hash for the console: `version`, `heartbeat_at` (ms)
    /// and `in_flight` (JSON `[{id,type,started_at}]`); written by each
    /// heartbeat, expires three heartbeats after the last.
    public func consumerInfo(_ consumer: String) -> String { prefix + "consumer:" + consumer }
    /// The consumer group every Pressroom process joins.
    public static let group = "pressroom"

    /// State of a job id: ``JobState/running(consumer:)`` (with a TTL of
    /// claimMinIdle, refreshed while it runs) keeps duplicates from running
    /// concurrently; the outcome of a finished job (TTL completedTTL) makes
    /// redeliveries and duplicate enqueues no-ops. One key for both, so
    /// admitting a job is one `SET NX GET` and finishing it one `SET`.
    public func job(_ jobID: String) -> String { prefix + "job:" + jobID }

    /// A key of the caller's own in this queue's hash slot (quota buckets of
    /// jobs on this queue), so one script can touch it with the queue's keys.
    public func scoped(_ suffix: String) -> String { prefix + suffix }

    /// Process-wide key that makes a consumer name exclusive to one live process.
    public static func consumerLock(namespace: String, consumer: String) -> String {
        "\(namespace):consumer:\(consumer)"
    }
}
