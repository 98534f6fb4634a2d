import Logging

/// Writes one logfmt line per event:
/// `ts=2026-11-29T07:20:04.123Z level=info msg="job done" label=pressroom.queue attempt=1 job_id=abc queue=derive`.
///
/// Values are quoted when they are empty or contain spaces, `=`, quotes,
/// backslashes or control characters; inside quotes `"` and `\` are escaped and
/// newlines become `\n`, so one event is always one line. Keys lose any
/// character that would break the pair. Nested metadata is flattened
/// (`retry.delay=2s`, arrays as `[a b]`).
public struct LogfmtLogHandler: LogHandler {
    public let label: String
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let output: LogOutput

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
        var line = "ts=\(record.timestamp) level=\(record.level.rawValue) msg=\(quote(record.message)) label=\(quote(record.label))"
        if let error = record.error {
            line += " error=\(quote(error))"
        }
        for (key, value) in record.metadata {
            append(key: key, value: value, to: &line)
        }
        line += "\n"
        return line
    }

    private static func append(key: String, value: Logger.MetadataValue, to line: inout String) {
        switch value {
        case .dictionary(let nested):
            for (subkey, subvalue) in nested.sorted(by: { $0.key < $1.key }) {
                append(key: "\(key).\(subkey)", value: subvalue, to: &line)
            }
        default:
            line += " \(sanitizeKey(key))=\(quote(flatten(value)))"
        }
    }

    private static func flatten(_ value: Logger.MetadataValue) -> String {
        switch value {
        case .string(let string): string
        case .stringConvertible(let convertible): convertible.description
        case .array(let values): "[" + values.map(flatten).joined(separator: " ") + "]"
        case .dictionary(let nested):
            "{" + nested.sorted { $0.key < $1.key }.map { "\($0.key)=\(flatten($0.value))" }.joined(separator: " ") + "}"
        }
    }

    /// Keys are bare words: anything that could end or split the pair becomes `_`.
    static func sanitizeKey(_ key: String) -> String {
        guard !key.isEmpty else { return "_" }
        var result = ""
        result.unicodeScalars.reserveCapacity(key.unicodeScalars.count)
        for scalar in key.unicodeScalars {
            let bad = scalar.value <= 0x20 || scalar == "=" || scalar == "\"" || scalar == "\\" || scalar.value == 0x7F
            result.unicodeScalars.append(bad ? "_" : scalar)
        }
        return result
    }

    /// Returns `value` bare when that is unambiguous, quoted and escaped otherwise.
    static func quote(_ value: String) -> String {
        let needsQuotes = value.isEmpty || value.unicodeScalars.contains { scalar in
            scalar.value <= 0x20 || scalar == "=" || scalar == "\"" || scalar == "\\" || scalar.value == 0x7F
        }
        guard needsQuotes else { return value }
        var result = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    result += "\\u" + hex4(scalar.value)
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        result += "\""
        return result
    }

    static func hex4(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
