import Foundation

/// Per-minute counts of a queue's successes and failures, kept in Redis by
/// every worker so any process can chart the whole fleet's last hour. Cheap
/// by design: one `INCRBY` per recorded batch of successes (inside the
/// batch's transaction), one `INCR` inside each failure's script; every key
/// expires after ``ttlSeconds`` and lives in the queue's hash slot.
public enum ThroughputCounters {
    public enum Kind: String, Sendable {
        case succeeded = "ok"
        /// Failed attempts: retried or dead-lettered.
        case failed
    }

    /// Long enough to chart an hour from any minute in it.
    public static let ttlSeconds = 7200

    public static func minute(ms: Int64) -> Int64 { ms / 60_000 }

    public static func key(_ keys: QueueKeys, _ kind: Kind, minute: Int64) -> String {
        keys.scoped("throughput:\(kind.rawValue):\(minute)")
    }

    /// One minute of one queue.
    public struct Minute: Sendable, Equatable {
        /// Minutes since the epoch.
        public var minute: Int64
        public var succeeded: Int
        public var failed: Int
    }

    /// The last `minutes` minutes, oldest first, the current (partial) minute last.
    /// One `MGET` (all keys share the queue's slot).
    public static func recent(keys: QueueKeys, client: RedisClient, minutes: Int = 60, now: Date = Date()) async throws -> [Minute] {
        let current = minute(ms: Int64(now.timeIntervalSince1970 * 1000))
        let range = (0..<Int64(minutes)).map { current - Int64(minutes) + 1 + $0 }
        let names = range.map { key(keys, .succeeded, minute: $0) } + range.map { key(keys, .failed, minute: $0) }
        let values = try await client.call(["MGET"] + names).array ?? []
        func count(_ i: Int) -> Int { i < values.count ? Int(values[i].int ?? 0) : 0 }
        return range.enumerated().map { i, m in Minute(minute: m, succeeded: count(i), failed: count(i + minutes)) }
    }
}
