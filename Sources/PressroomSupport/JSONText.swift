/// JSON string literals (RFC 8259 §7) written by hand, for the few places
/// that write JSON on a hot path (log lines, order timeline entries), where
/// Foundation's generic writers cost more than the work they describe.
public enum JSONText {
    /// `value` as a JSON string literal: quote, backslash and control characters escaped.
    public static func quoted(_ value: String) -> String {
        var out = ""
        out.unicodeScalars.reserveCapacity(value.unicodeScalars.count + 2)
        append(value, to: &out)
        return out
    }

    /// Appends `value` as a JSON string literal to `out`; `escapingSlashes`
    /// writes `/` as `\/`, as `JSONEncoder` does unless told otherwise.
    public static func append(_ value: String, to out: inout String, escapingSlashes: Bool = false) {
        out += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "/" where escapingSlashes: out += "\\/"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case let control where control.value < 0x20:
                let digits = Array("0123456789abcdef".unicodeScalars)
                out += "\\u00"
                out.unicodeScalars.append(digits[Int(control.value >> 4)])
                out.unicodeScalars.append(digits[Int(control.value & 0xF)])
            default:
                out.unicodeScalars.append(scalar)
            }
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
