import Foundation

/// Operator actions on dead-letter streams: list, show, replay, purge, stats.
/// Works in pages so it stays cheap on large streams, and every replay is one
/// atomic script, so an interrupted bulk replay never leaves an entry both
/// replayed and still dead. A partitioned queue's dead letters are read
/// partition by partition; each one names its partition.
public struct DeadLetterAdmin: Sendable {
    public let namespace: String
    public let queues: [String]
    private let layouts: [String: QueuePartitions]
    private let client: RedisClient
    /// Entries read per page.
    public var pageSize = 200

    /// Queues of one partition each.
    public init(namespace: String, queues: [String], client: RedisClient) {
        self.init(queues: queues.map { QueuePartitions(namespace: namespace, queue: $0) }, namespace: namespace, client: client)
    }

    public init(queues: [QueuePartitions], namespace: String, client: RedisClient) {
        self.namespace = namespace
        self.queues = queues.map(\.queue).sorted()
        self.layouts = Dictionary(queues.map { ($0.queue, $0) }, uniquingKeysWith: { a, _ in a })
        self.client = client
    }

    /// Which dead letters an operation applies to.
    public struct Filter: Sendable {
        public var queue: String?
        public var type: String?
        /// Case-insensitive substring of the reason.
        public var reason: String?
        /// Only entries dead-lettered at or after this time.
        public var since: Date?
        /// Only entries dead-lettered before this time.
        public var before: Date?
        public var limit: Int?

        public init(queue: String? = nil, type: String? = nil, reason: String? = nil, since: Date? = nil, before: Date? = nil, limit: Int? = nil) {
            self.queue = queue
            self.type = type
            self.reason = reason
            self.since = since
            self.before = before
            self.limit = limit
        }

        public func matches(_ letter: DeadLetter) -> Bool {
            if let type, letter.type != type { return false }
            if let reason, !letter.reason.localizedCaseInsensitiveContains(reason) { return false }
            if let since, letter.deadAt < since { return false }
            if let before, letter.deadAt >= before { return false }
            return true
        }
    }

    /// Every partition read of `queue`.
    public func partitions(_ queue: String) -> [QueueKeys] {
        (layouts[queue] ?? QueuePartitions(namespace: namespace, queue: queue)).all
    }

    public func keys(_ queue: String, partition: Int = 0) -> QueueKeys {
        QueueKeys(namespace: namespace, queue: queue, partition: partition)
    }

    /// Dead letters matching `filter`, oldest first, across the selected queues.
    public func list(_ filter: Filter = Filter()) async throws -> [DeadLetter] {
        var result: [DeadLetter] = []
        try await forEachPage(filter) { page in
            result += page
            return true
        }
        return result
    }

    /// Calls `body` with pages of matching entries until it returns false or
    /// the filter's limit is reached.
    public func forEachPage(_ filter: Filter, _ body: ([DeadLetter]) async throws -> Bool) async throws {
        var remaining = filter.limit ?? Int.max
        for keys in selectedQueues(filter).flatMap(partitions) {
            var start = filter.since.map { String(Int64($0.timeIntervalSince1970 * 1000)) + "-0" } ?? "-"
            while remaining > 0 {
                let reply = try await client.call(["XRANGE", keys.dead, start, "+", "COUNT", String(pageSize)])
                let entries = StreamEntry.parseEntries(reply)
                if entries.isEmpty { break }
                var page = entries.map { DeadLetter(queue: keys.queue, partition: keys.partition, entry: $0) }.filter(filter.matches)
                if page.count > remaining { page = Array(page.prefix(remaining)) }
                remaining -= page.count
                if !page.isEmpty, try await !body(page) { return }
                if let before = filter.before, let last = entries.last, DeadLetter.time(of: last.id) >= before { break }
                start = "(" + entries.last!.id
            }
        }
    }

    /// The dead letter a reference names: `QUEUE/ID` or `QUEUE/PARTITION/ID`
    /// (as `dlq list` prints it), or a bare entry id with `queue`, or a bare
    /// id found in one place only (entry ids are unique per stream, not
    /// across queues or partitions).
    public func show(id reference: String, queue: String? = nil) async throws -> DeadLetter? {
        var id = reference
        var places = (queue.map { [$0] } ?? self.queues).flatMap(partitions)
        let parts = reference.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        if parts.count == 2 {
            places = partitions(parts[0])
            id = parts[1]
        } else if parts.count == 3, let partition = Int(parts[1]), partition >= 0 {
            places = [keys(parts[0], partition: partition)]
            id = parts[2]
        }
        var found: [DeadLetter] = []
        for keys in places {
            let entries = StreamEntry.parseEntries(try await client.call(["XRANGE", keys.dead, id, id]))
            if let entry = entries.first { found.append(DeadLetter(queue: keys.queue, partition: keys.partition, entry: entry)) }
        }
        if found.count > 1 {
            throw AmbiguousReference(id: id, references: found.map(\.reference))
        }
        return found.first
    }

    public struct AmbiguousReference: Error, CustomStringConvertible {
        public let id: String
        /// Where it was found, as unambiguous references.
        public let references: [String]
        public var description: String {
            "dead-letter id \(id) exists in several places; write it as one of \(references.joined(separator: ", "))"
        }
    }

    public enum ReplayOutcome: String, Sendable, Codable {
        /// Back on its queue with attempts reset; removed from the dead letters.
        case replayed
        /// Not there any more (already replayed or purged): nothing done.
        case gone
        /// Kept no job to replay (an entry trimmed before it ran).
        case notReplayable
    }

    /// Re-enqueues one dead letter and removes it from the dead-letter stream
    /// in one atomic step. Replaying the same id twice enqueues it once. The
    /// job goes back onto the partition it died on (one slot, one script),
    /// which workers read for as long as it holds jobs (docs/operations.md).
    public func replay(_ letter: DeadLetter) async throws -> ReplayOutcome {
        let k = keys(letter.queue, partition: letter.partition)
        let reply = try await DeadLetterScripts.replay.run(
            on: client,
            keys: [k.dead, k.stream, k.job(letter.jobID ?? "-")],
            args: [letter.id, String(Int64(Date().timeIntervalSince1970 * 1000))])
        switch reply.int {
        case 1: return .replayed
        case -1: return .notReplayable
        default: return .gone
        }
    }

    /// Deletes dead letters for good.
    @discardableResult
    public func purge(_ letters: [DeadLetter]) async throws -> Int {
        var removed = 0
        for (place, group) in Dictionary(grouping: letters, by: { PartitionRef(queue: $0.queue, partition: $0.partition) }) {
            removed += Int(try await client.call(["XDEL", keys(place.queue, partition: place.partition).dead] + group.map(\.id)).int ?? 0)
        }
        return removed
    }

    /// Counts by queue, job type, error class and reason kind.
    public func stats(_ filter: Filter = Filter()) async throws -> DeadLetterStats {
        var stats = DeadLetterStats()
        try await forEachPage(filter) { page in
            for letter in page {
                stats.total += 1
                stats.byQueue[letter.queue, default: 0] += 1
                if (layouts[letter.queue]?.readCount ?? 1) > 1 {
                    stats.byPartition["\(letter.queue)/\(letter.partition)", default: 0] += 1
                }
                stats.byType[letter.type ?? "(none)", default: 0] += 1
                stats.byErrorClass[letter.errorClass, default: 0] += 1
                stats.byReasonKind[letter.reasonKind, default: 0] += 1
            }
            return true
        }
        return stats
    }

    private func selectedQueues(_ filter: Filter) -> [String] {
        filter.queue.map { [$0] } ?? queues
    }

    private struct PartitionRef: Hashable {
        let queue: String
        let partition: Int
    }
}

public struct DeadLetterStats: Sendable, Codable, Equatable {
    public var total = 0
    public var byQueue: [String: Int] = [:]
    /// `QUEUE/PARTITION` of partitioned queues.
    public var byPartition: [String: Int] = [:]
    public var byType: [String: Int] = [:]
    public var byErrorClass: [String: Int] = [:]
    public var byReasonKind: [String: Int] = [:]

    public init() {}
}

enum DeadLetterScripts {
    /// KEYS: dead, stream, job state. ARGV: dead entry id, now ms.
    /// Rebuilds the original job (producer fields only, attempts reset), adds
    /// it to its queue, deletes the dead letter and the completed-id record
    /// (so the job really runs again). Returns 1, 0 (gone) or -1 (nothing to replay).
    static let replay = RedisScript(name: "dlq-replay", source: """
        local e = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])
        if #e == 0 then return 0 end
        local fields = e[1][2]
        local drop = {original_id=1, queue=1, dead_reason=1, dead_error_class=1, attempts=1, first_failure_at=1,
            last_failure_at=1, consumer=1, deliveries=1, attempt=1, last_error=1, last_error_class=1, retry_of=1,
            replayed_from=1, replayed_at=1, dead_at=1}
        local out, hasType = {}, false
        for i = 1, #fields, 2 do
            if not drop[fields[i]] then
                out[#out + 1] = fields[i]
                out[#out + 1] = fields[i + 1]
                if fields[i] == 'type' then hasType = true end
            end
        end
        if not hasType then return -1 end
        out[#out + 1] = 'replayed_from'
        out[#out + 1] = ARGV[1]
        out[#out + 1] = 'replayed_at'
        out[#out + 1] = ARGV[2]
        redis.call('XADD', KEYS[2], '*', unpack(out))
        redis.call('XDEL', KEYS[1], ARGV[1])
        redis.call('DEL', KEYS[3])
        return 1
        """)
}
