/// JSON string literals (RFC 8259 §7) written by hand, for the few places
/// that write JSON on a hot path (log lines, order timeline entries), where
/// Foundation's generic writers cost more than the work they describe.
public enum JSONText {
    /// `value` as a JSON string literal: quote, backslash and control characters escaped.
    public static func quoted(_ value: String) -> String {
        var out = ""
        out.reserveCapacity(value.utf8.count + 2)
        append(value, to: &out)
        return out
    }

    /// Appends `value` as a JSON string literal to `out`; `escapingSlashes`
    /// writes `/` as `\/`, as `JSONEncoder` does unless told otherwise.
    ///
    /// Only ASCII bytes are ever escaped, so the text between two of them is
    /// copied as one run (most values have none: one append); appending
    /// scalar by scalar was most of the cost of every document a ticket writes.
    public static func append(_ value: String, to out: inout String, escapingSlashes: Bool = false) {
        out += "\""
        let utf8 = value.utf8
        var runStart = utf8.startIndex
        var index = runStart
        while index != utf8.endIndex {
            let byte = utf8[index]
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || (escapingSlashes && byte == UInt8(ascii: "/")) else {
                utf8.formIndex(after: &index)
                continue
            }
            // An ASCII byte starts a scalar, so both ends of the run are scalar boundaries.
            if runStart != index { out += value[runStart..<index] }
            switch byte {
            case UInt8(ascii: "\""): out += "\\\""
            case UInt8(ascii: "\\"): out += "\\\\"
            case UInt8(ascii: "/"): out += "\\/"
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0x08: out += "\\b"
            case 0x0C: out += "\\f"
            default:
                let digits: StaticString = "0123456789abcdef"
                out += "\\u00"
                out.unicodeScalars.append(Unicode.Scalar(digits.utf8Start[Int(byte >> 4)]))
                out.unicodeScalars.append(Unicode.Scalar(digits.utf8Start[Int(byte & 0xF)]))
            }
            utf8.formIndex(after: &index)
            runStart = index
        }
        if runStart == utf8.startIndex {
            out += value
        } else if runStart != utf8.endIndex {
            out += value[runStart..<utf8.endIndex]
        }
        out += "\""
    }

    /// A flat string map as a JSON object with its keys sorted.
    public static func object(_ map: [String: String]) -> String {
        var out = "{"
        var first = true
        for key in map.keys.sorted() {
            if !first { out += "," }
            first = false
            append(key, to: &out)
            out += ":"
            append(map[key]!, to: &out)
        }
        return out + "}"
    }
}

extension JSONText {
    /// One JSON object written field by field, for documents written on every
    /// ticket (an order's intents, results and assets, a vendor's create body),
    /// where `JSONEncoder`'s generic machinery was most of their cost.
    ///
    /// Given its fields in ascending key order, it writes byte for byte what
    /// `JSONEncoder` with `.sortedKeys` writes for the synthesized `Encodable`
    /// of the same value: nil fields left out, slashes escaped unless
    /// `escapingSlashes` is false (`.withoutEscapingSlashes`). That keeps
    /// stored documents and re-sent vendor bodies identical to what earlier
    /// versions wrote: a vendor compares a re-sent body with the first.
    public struct Object {
        private var text = "{"
        private var lastKey: String?
        private let escapingSlashes: Bool

        public init(escapingSlashes: Bool = true) {
            self.escapingSlashes = escapingSlashes
        }

        private mutating func key(_ key: String) {
            assert(lastKey.map { $0 < key } ?? true, "JSONText.Object keys must come in ascending order: \(lastKey ?? "") then \(key)")
            if lastKey != nil { text += "," }
            lastKey = key
            JSONText.append(key, to: &text, escapingSlashes: escapingSlashes)
            text += ":"
        }

        /// A string field; nil leaves it out.
        public mutating func string(_ key: String, _ value: String?) {
            guard let value else { return }
            self.key(key)
            JSONText.append(value, to: &text, escapingSlashes: escapingSlashes)
        }

        /// An integer field; nil leaves it out.
        public mutating func int<I: BinaryInteger>(_ key: String, _ value: I?) {
            guard let value else { return }
            self.key(key)
            text += String(value)
        }

        /// A floating-point field in Swift's shortest round-tripping form
        /// (`2.0`, `0.1`, `1e-07`: valid JSON that decodes to the same value,
        /// not always `JSONEncoder`'s bytes); nil and non-finite values leave it out.
        public mutating func double(_ key: String, _ value: Double?) {
            guard let value, value.isFinite else { return }
            self.key(key)
            text += value.description
        }

        /// An array of strings.
        public mutating func strings(_ key: String, _ values: [String]) {
            self.key(key)
            text += "["
            for (index, value) in values.enumerated() {
                if index > 0 { text += "," }
                JSONText.append(value, to: &text, escapingSlashes: escapingSlashes)
            }
            text += "]"
        }

        /// A value already written as JSON (a nested object or array); nil leaves it out.
        public mutating func raw(_ key: String, _ json: String?) {
            guard let json else { return }
            self.key(key)
            text += json
        }

        /// The object's text.
        public var json: String { text + "}" }
    }

    /// Documents already written as JSON, as an array.
    public static func array(_ elements: [String]) -> String {
        "[" + elements.joined(separator: ",") + "]"
    }
}
