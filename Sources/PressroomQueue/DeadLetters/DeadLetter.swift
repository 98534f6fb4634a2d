import Foundation

/// One entry of a dead-letter stream, as operators see it.
public struct DeadLetter: Sendable, Codable, Equatable {
    /// The dead-letter entry id (what `dlq show/replay/purge` take).
    public var id: String
    public var queue: String
    /// The queue partition whose dead-letter stream holds it.
    public var partition: Int
    public var jobID: String?
    public var type: String?
    public var attempts: Int
    /// transient (gave up after retries) or permanent.
    public var errorClass: String
    public var reason: String
    public var deadAt: Date
    public var firstFailureAt: Date?
    public var consumer: String?
    /// The stream entry the job was last delivered from.
    public var originalEntryID: String?
    public var payload: String?
    /// Every field as stored, for `dlq show`.
    public var fields: [String: String]

    public init(queue: String, partition: Int = 0, entry: StreamEntry) {
        let f = Dictionary(entry.fields ?? [], uniquingKeysWith: { a, _ in a })
        self.id = entry.id
        self.queue = queue
        self.partition = partition
        self.jobID = f[WireFormat.Field.id]
        self.type = f[WireFormat.Field.type]
        self.attempts = Int(f["attempts"] ?? "") ?? 1
        self.errorClass = f["dead_error_class"] ?? "permanent"
        self.reason = f["dead_reason"] ?? ""
        self.deadAt = Self.time(of: entry.id)
        self.firstFailureAt = f[WireFormat.Field.firstFailureAt].flatMap(Double.init).map { Date(timeIntervalSince1970: $0 / 1000) }
        self.consumer = f["consumer"]
        self.originalEntryID = f["original_id"]
        self.payload = f[WireFormat.Field.payload]
        self.fields = f
    }

    /// `QUEUE/ID` (partition 0) or `QUEUE/PARTITION/ID`: unambiguous across
    /// queues and partitions, what the CLI prints and takes.
    public var reference: String { partition == 0 ? "\(queue)/\(id)" : "\(queue)/\(partition)/\(id)" }

    /// What kind of failure, for stats: malformed, unknown_type, poison, trimmed, or the error class.
    public var reasonKind: String {
        for kind in ["malformed", "poison", "trimmed"] where reason.hasPrefix(kind) { return kind }
        if reason.hasPrefix("unknown job type") { return "unknown_type" }
        return errorClass
    }

    static func time(of entryID: String) -> Date {
        let ms = entryID.split(separator: "-").first.flatMap { Double($0) } ?? 0
        return Date(timeIntervalSince1970: ms / 1000)
    }
}
