import Foundation

/// Queue operations outside the worker loop: creating groups, enqueueing,
/// and reading the state operators look at.
public enum QueueAdmin {
    /// Creates the stream and its consumer group if missing. The group starts
    /// at `0` so jobs enqueued before the first worker ever started still run.
    public static func ensureGroup(keys: QueueKeys, client: RedisClient) async throws {
        let reply = try await client.send(["XGROUP", "CREATE", keys.stream, QueueKeys.group, "0", "MKSTREAM"])
        if case .error(let message) = reply, !message.hasPrefix("BUSYGROUP") {
            throw RedisError.server(message)
        }
    }

    /// Adds a job to the partition its id belongs to (``QueuePartitions/keys(forJob:)``).
    @discardableResult
    public static func enqueue(partitions: QueuePartitions, client: RedisClient, id: String, type: String, payload: String,
                               enqueuedAt: Date = Date()) async throws -> String {
        try await enqueue(keys: partitions.keys(forJob: id), client: client, id: id, type: type, payload: payload, enqueuedAt: enqueuedAt)
    }

    /// A job that must not run before `notBefore`, on the partition its id belongs to.
    public static func enqueue(partitions: QueuePartitions, client: RedisClient, id: String, type: String, payload: String,
                               notBefore: Date, enqueuedAt: Date = Date()) async throws {
        try await enqueue(keys: partitions.keys(forJob: id), client: client, id: id, type: type, payload: payload,
                          notBefore: notBefore, enqueuedAt: enqueuedAt)
    }

    /// Adds a job the way any producer would (plain XADD) to the partition
    /// `keys` names, returns the entry id.
    @discardableResult
    public static func enqueue(keys: QueueKeys, client: RedisClient, id: String, type: String, payload: String, enqueuedAt: Date = Date()) async throws -> String {
        let fields = WireFormat.fields(id: id, type: type, payload: payload, enqueuedAt: enqueuedAt)
        let reply = try await client.call(["XADD", keys.stream, "*"] + fields.flatMap { [$0.0, $0.1] })
        guard let entryID = reply.string else { throw RedisError.protocolViolation("XADD returned \(reply)") }
        return entryID
    }

    /// Adds a job that must not run before `notBefore`: it waits in the
    /// queue's delayed set (durably, like a retry) and is moved onto the
    /// stream when due. Job-id idempotency still applies when it runs.
    public static func enqueue(keys: QueueKeys, client: RedisClient, id: String, type: String, payload: String,
                               notBefore: Date, enqueuedAt: Date = Date()) async throws {
        let fields = WireFormat.fields(id: id, type: type, payload: payload, enqueuedAt: enqueuedAt)
        let member = QueueLane.jsonArray(fields.flatMap { [$0.0, $0.1] })
        _ = try await client.call(["ZADD", keys.delayed, String(Int64(notBefore.timeIntervalSince1970 * 1000)), member])
    }

    /// A consumer that sent no heartbeat for this long counts as gone.
    public static let liveConsumerWindow: Double = 30

    /// Records that `consumer` is alive and serving `keys.queue`; forgets
    /// consumers silent for an hour.
    static func heartbeat(keys: QueueKeys, client: RedisClient, consumer: String, notice: String? = nil,
                          version: String? = nil, inFlight: [QueueLane.InFlight] = [], now: Date = Date()) async throws {
        let ms = Int64(now.timeIntervalSince1970 * 1000)
        let info = keys.consumerInfo(consumer)
        var fields = ["heartbeat_at", String(ms), "in_flight", inFlightJSON(inFlight)]
        if let version { fields += ["version", version] }
        // One round trip, one transaction (all keys in the queue's slot), so
        // the console never reads a half-written consumer hash.
        var pipeline = RESPPipeline()
        pipeline.append(CollectionOfOne("MULTI"))
        pipeline.append(["ZADD", keys.consumers, String(ms), consumer])
        pipeline.append(["ZREMRANGEBYSCORE", keys.consumers, "-inf", String(ms - 3_600_000)])
        if let notice {
            pipeline.append(["SET", keys.consumerNotice(consumer), notice, "EX", String(Int(liveConsumerWindow))])
        }
        pipeline.append(["DEL", info])
        pipeline.append(["HSET", info] + fields)
        pipeline.append(["EXPIRE", info, String(consumerInfoTTL)])
        pipeline.append(CollectionOfOne("EXEC"))
        let replies = try await client.send(pipeline)
        if case .error(let message)? = replies.last { throw RedisError.server(message) }
    }

    /// Three heartbeats (every 5 s): one missed write does not blank the console.
    static let consumerInfoTTL = 15

    private struct InFlightRecord: Encodable {
        let id: String, type: String, started_at: Int64
    }

    private static func inFlightJSON(_ running: [QueueLane.InFlight]) -> String {
        let records = running.sorted { $0.startedMs < $1.startedMs }.map { InFlightRecord(id: $0.jobID, type: $0.type, started_at: $0.startedMs) }
        let data = (try? JSONEncoder().encode(records)) ?? Data("[]".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    /// The completed-id record of a job, if it finished within the TTL.
    public static func completedRecord(keys: QueueKeys, client: RedisClient, jobID: String) async throws -> String? {
        guard let state = try await client.call(["GET", keys.job(jobID)]).string, !JobState.isRunning(state) else { return nil }
        return state
    }

    /// A whole queue's numbers: its only partition's, or the sum over its
    /// partitions with each one's own in ``QueueStatus/partitions``.
    public static func status(of partitions: QueuePartitions, client: RedisClient, now: Date = Date()) async throws -> QueueStatus {
        guard partitions.readCount > 1 else { return try await status(keys: partitions.keys(0), client: client, now: now) }
        var parts: [QueueStatus] = []
        for keys in partitions.all {
            var part = try await status(keys: keys, client: client, now: now)
            part.partition = keys.partition
            parts.append(part)
        }
        return QueueStatus(combining: parts)
    }

    /// One partition's numbers (the queue's, when it has one partition).
    public static func status(keys: QueueKeys, client: RedisClient, now: Date = Date()) async throws -> QueueStatus {
        var status = QueueStatus(queue: keys.queue, stream: keys.stream)
        status.length = Int(try await client.call(["XLEN", keys.stream]).int ?? 0)
        status.delayed = Int(try await client.call(["ZCARD", keys.delayed]).int ?? 0)
        status.deadLetters = Int(try await client.call(["XLEN", keys.dead]).int ?? 0)
        let liveSince = Int64(now.timeIntervalSince1970 * 1000) - Int64(liveConsumerWindow * 1000)
        status.liveConsumers = Int(try await client.call(["ZCOUNT", keys.consumers, String(liveSince), "+inf"]).int ?? 0)
        let groups = try await client.send(["XINFO", "GROUPS", keys.stream])
        guard case .array(let list) = groups else { return status }
        for group in list {
            let info = Dictionary(group.fieldPairsRaw, uniquingKeysWith: { a, _ in a })
            guard info["name"]?.string == QueueKeys.group else { continue }
            status.groupExists = true
            status.pending = Int(info["pending"]?.int ?? 0)
            status.lag = info["lag"]?.int.map(Int.init)
            status.lastDeliveredID = info["last-delivered-id"]?.string
        }
        guard status.groupExists else { return status }
        let summary = try await client.call(["XPENDING", keys.stream, QueueKeys.group])
        if let parts = summary.array, parts.count >= 2, let oldest = parts[1].string,
           let ms = oldest.split(separator: "-").first.flatMap({ Double($0) }) {
            status.oldestPendingAge = max(0, now.timeIntervalSince1970 - ms / 1000)
        }
        let consumers = try await client.call(["XINFO", "CONSUMERS", keys.stream, QueueKeys.group])
        for consumer in consumers.array ?? [] {
            let info = Dictionary(consumer.fieldPairsRaw, uniquingKeysWith: { a, _ in a })
            let name = info["name"]?.string ?? "?"
            status.consumers.append(.init(
                name: name,
                pending: Int(info["pending"]?.int ?? 0),
                idle: Double(info["idle"]?.int ?? 0) / 1000,
                inactive: info["inactive"]?.int.map { Double($0) / 1000 },
                notice: try await client.call(["GET", keys.consumerNotice(name)]).string))
        }
        return status
    }
}

/// What `pressroom status` prints for one queue.
public struct QueueStatus: Sendable, Codable, Equatable {
    public struct Consumer: Sendable, Codable, Equatable {
        public var name: String
        public var pending: Int
        /// Seconds since the consumer's last read or claim.
        public var idle: Double
        /// Seconds since its last successful read (Redis 7.2+), if known.
        public var inactive: Double?
        /// What the live consumer reports is wrong with it (no admin port...).
        public var notice: String?
    }

    public var queue: String
    /// The stream; a partitioned queue's totals list every partition's, space-separated.
    public var stream: String
    public var groupExists = false
    public var length = 0
    public var pending = 0
    /// Entries not yet delivered to any consumer (`nil` when Redis cannot tell).
    public var lag: Int?
    public var lastDeliveredID: String?
    public var oldestPendingAge: Double?
    public var delayed = 0
    public var deadLetters = 0
    /// Consumers that sent a heartbeat within the last 30 s.
    public var liveConsumers = 0
    public var consumers: [Consumer] = []
    /// Which partition these numbers are of; `nil` for a whole queue.
    public var partition: Int?
    /// A partitioned queue's numbers per partition (the fields above are
    /// their sums); `nil` when the queue has one partition.
    public var partitions: [QueueStatus]?

    public init(queue: String, stream: String) {
        self.queue = queue
        self.stream = stream
    }

    /// A queue's totals from its partitions': counts add up, the oldest
    /// pending entry is the oldest of any, and a consumer (every process
    /// serves every partition) appears once with its pending entries summed.
    init(combining parts: [QueueStatus]) {
        self.init(queue: parts[0].queue, stream: parts.map(\.stream).joined(separator: " "))
        groupExists = parts.allSatisfy(\.groupExists)
        length = parts.reduce(0) { $0 + $1.length }
        pending = parts.reduce(0) { $0 + $1.pending }
        lag = parts.contains { $0.lag == nil } ? nil : parts.reduce(0) { $0 + ($1.lag ?? 0) }
        oldestPendingAge = parts.compactMap(\.oldestPendingAge).max()
        delayed = parts.reduce(0) { $0 + $1.delayed }
        deadLetters = parts.reduce(0) { $0 + $1.deadLetters }
        liveConsumers = parts.map(\.liveConsumers).max() ?? 0
        var byName: [String: Consumer] = [:]
        var order: [String] = []
        for consumer in parts.flatMap(\.consumers) {
            guard var seen = byName[consumer.name] else {
                byName[consumer.name] = consumer
                order.append(consumer.name)
                continue
            }
            seen.pending += consumer.pending
            seen.idle = min(seen.idle, consumer.idle)
            if let inactive = consumer.inactive { seen.inactive = min(seen.inactive ?? inactive, inactive) }
            seen.notice = seen.notice ?? consumer.notice
            byName[consumer.name] = seen
        }
        consumers = order.compactMap { byName[$0] }
        partitions = parts
    }
}

extension RedisValue {
    /// Flat `[k, v, ...]` with values kept as replies (XINFO mixes types).
    var fieldPairsRaw: [(String, RedisValue)] {
        guard let values = array else { return [] }
        var pairs: [(String, RedisValue)] = []
        var index = 0
        while index + 1 < values.count {
            pairs.append((values[index].string ?? "", values[index + 1]))
            index += 2
        }
        return pairs
    }
}
