/// One queue spread over partitions, each under its own hash tag, so Redis
/// Cluster can put them on different shards (docs/wire-format.md#partitions).
/// Producers write a job to ``partition(ofJob:count:)`` of ``count``; workers,
/// `status` and `dlq` read partitions `0..<readCount`, which stays above
/// `count` while the partitions of a larger count drain.
public struct QueuePartitions: Sendable, Equatable {
    public let namespace: String
    public let queue: String
    /// Partitions new jobs go to.
    public let count: Int
    /// Partitions read: `count`, or more while old ones drain (`drainPartitions`).
    public let readCount: Int

    public init(namespace: String, queue: String, count: Int = 1, drainFrom: Int? = nil) {
        self.namespace = namespace
        self.queue = queue
        self.count = max(1, count)
        self.readCount = max(self.count, drainFrom ?? 0)
    }

    public func keys(_ partition: Int) -> QueueKeys {
        QueueKeys(namespace: namespace, queue: queue, partition: partition)
    }

    /// Every partition read, in order.
    public var all: [QueueKeys] { (0..<readCount).map(keys) }

    /// The keys of the partition a job id goes to.
    public func keys(forJob id: String) -> QueueKeys { keys(Self.partition(ofJob: id, count: count)) }

    /// CRC-32 (IEEE, as zlib's `crc32`) of the id's hash tag, modulo `count`.
    /// The hash tag is what Redis Cluster hashes: the text between the first
    /// `{` and the next `}` when that is not empty, else the whole id. So
    /// `{A1001}:fulfill` and the order `A1001` meet on one partition, and
    /// duplicates of one id always do, which keeps idempotency exact.
    public static func partition(ofJob id: String, count: Int) -> Int {
        guard count > 1 else { return 0 }
        return Int(CRC32.checksum(hashTag(id)) % UInt32(count))
    }

    static func hashTag(_ id: String) -> Substring.UTF8View {
        let bytes = id.utf8
        if let open = bytes.firstIndex(of: UInt8(ascii: "{")),
           let close = bytes[bytes.index(after: open)...].firstIndex(of: UInt8(ascii: "}")),
           close > bytes.index(after: open) {
            return Substring(id)[bytes.index(after: open)..<close].utf8
        }
        return Substring(id).utf8
    }
}

/// CRC-32 with the IEEE polynomial (reflected 0xEDB88320), the checksum of
/// zlib, PNG and Python's `zlib.crc32`, so any producer can compute it.
enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 == 1 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func checksum<S: Sequence>(_ bytes: S) -> UInt32 where S.Element == UInt8 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }
}
