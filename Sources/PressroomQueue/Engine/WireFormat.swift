import Foundation

/// The fields of a job entry on a queue stream: what any producer XADDs.
/// `docs/wire-format.md` is the contract; this type is its one implementation.
public enum WireFormat {
    /// The only schema version this build understands.
    public static let version = "1"
    /// Producer ids are keys in Redis; keep them short and printable.
    public static let maxJobIDLength = 200

    public enum Field {
        public static let version = "v"
        public static let id = "id"
        public static let type = "type"
        public static let payload = "payload"
        public static let enqueuedAt = "enqueued_at"
        public static let attempt = "attempt"
        public static let firstFailureAt = "first_failure_at"
        public static let lastFailureAt = "last_failure_at"
        public static let lastError = "last_error"
        public static let lastErrorClass = "last_error_class"
        public static let replayedFrom = "replayed_from"
        /// When a deferred job (``JobDeferral``) was first deferred, ms since the epoch.
        public static let deferredSince = "deferred_since"
        public static let deferredReason = "deferred_reason"
    }

    /// Why an entry cannot be run at all; dead-lettered without retries.
    public struct Malformed: Error, Sendable, Equatable, CustomStringConvertible {
        public let reason: String
        public var description: String { reason }
    }

    /// Validates an entry and turns it into a ``Job``.
    public static func parse(entryID: String, fields pairs: [(String, String)], queue: String, partition: Int = 0) -> Result<Job, Malformed> {
        var fields: [String: String] = Dictionary(minimumCapacity: pairs.count)
        for (key, value) in pairs where fields[key] == nil { fields[key] = value }
        func fail(_ reason: String) -> Result<Job, Malformed> { .failure(Malformed(reason: "malformed entry: " + reason)) }

        guard let version = fields[Field.version] else { return fail("missing field 'v' (schema version; this worker reads v=\(WireFormat.version))") }
        guard version == WireFormat.version else { return fail("unsupported schema version v=\(version) (this worker reads v=\(WireFormat.version))") }
        guard let id = fields[Field.id], !id.isEmpty else { return fail("missing field 'id' (the producer's job id)") }
        // Counting characters walks grapheme clusters; only needed past the byte limit.
        guard id.utf8.count <= maxJobIDLength || (id.utf8.count <= maxJobIDLength * 4 && id.count <= maxJobIDLength),
              id.utf8.allSatisfy({ $0 > 0x20 && $0 != 0x7F }) else {
            return fail("field 'id' must be 1-\(maxJobIDLength) printable characters without spaces")
        }
        guard let type = fields[Field.type], !type.isEmpty else { return fail("missing field 'type'") }
        guard let payloadText = fields[Field.payload] else { return fail("missing field 'payload' (a JSON object)") }
        let payload = Data(payloadText.utf8)
        do {
            let object = try JSONSerialization.jsonObject(with: payload, options: [.fragmentsAllowed])
            guard object is [String: Any] else { return fail("field 'payload' must be a JSON object") }
        } catch {
            return fail("field 'payload' is not valid JSON: \((error as NSError).userInfo[NSDebugDescriptionErrorKey] ?? error)")
        }
        var attempt = 1
        if let text = fields[Field.attempt] {
            guard let value = Int(text), value >= 1 else { return fail("field 'attempt' must be a positive integer") }
            attempt = value
        }
        var enqueuedAt: Date?
        if let text = fields[Field.enqueuedAt] {
            guard let ms = Double(text) else { return fail("field 'enqueued_at' must be milliseconds since the epoch") }
            enqueuedAt = Date(timeIntervalSince1970: ms / 1000)
        }
        return .success(Job(id: id, type: type, queue: queue, attempt: attempt, payload: payload, entryID: entryID, enqueuedAt: enqueuedAt, fields: fields, partition: partition))
    }

    /// The fields a producer sends for a new job, in wire order.
    public static func fields(id: String, type: String, payload: String, enqueuedAt: Date = Date()) -> [(String, String)] {
        [
            (Field.version, version),
            (Field.id, id),
            (Field.type, type),
            (Field.payload, payload),
            (Field.enqueuedAt, String(Int64(enqueuedAt.timeIntervalSince1970 * 1000))),
        ]
    }
}
