import Logging
import PressroomSupport

/// Writes one JSON object per line:
/// `{"ts":"2026-11-29T07:20:04.123Z","level":"info","msg":"job done","label":"pressroom.queue","job_id":"abc",...}`.
///
/// Metadata sits at the top level, next to the fixed keys, so `jq .job_id`
/// and log shippers find it; a metadata key that collides with a fixed key
/// (`ts`, `level`, `msg`, `label`, `error`) is written with a leading `_`.
/// Arrays and dictionaries stay JSON arrays and objects.
public struct JSONLogHandler: LogHandler {
    public let label: String
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let output: LogOutput

    static let reservedKeys: Set<String> = ["ts", "level", "msg", "label", "error"]

    public init(
        label: String,
        level: Logger.Level = .info,
        output: LogOutput = .standardError,
        metadataProvider: Logger.MetadataProvider? = nil
    ) {
        self.label = label
        self.logLevel = level
        self.output = output
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let record = LogRecord(event: event, label: label, handlerMetadata: metadata, provider: metadataProvider)
        output.write(Array(Self.render(record).utf8))
    }

    static func render(_ record: LogRecord) -> String {
        var line = "{\"ts\":\(quote(record.timestamp)),\"level\":\(quote(record.level.rawValue))"
        line += ",\"msg\":\(quote(record.message)),\"label\":\(quote(record.label))"
        if let error = record.error {
            line += ",\"error\":\(quote(error))"
        }
        for (key, value) in record.metadata {
            let name = reservedKeys.contains(key) ? "_" + key : key
            line += ",\(quote(name)):\(encode(value))"
        }
        line += "}\n"
        return line
    }

    private static func encode(_ value: Logger.MetadataValue) -> String {
        switch value {
        case .string(let string):
            return quote(string)
        case .stringConvertible(let convertible):
            return quote(convertible.description)
        case .array(let values):
            return "[" + values.map(encode).joined(separator: ",") + "]"
        case .dictionary(let nested):
            let members = nested.sorted { $0.key < $1.key }.map { "\(quote($0.key)):\(encode($0.value))" }
            return "{" + members.joined(separator: ",") + "}"
        }
    }

    /// A JSON string literal (RFC 8259).
    static func quote(_ value: String) -> String { JSONText.quoted(value) }
}
