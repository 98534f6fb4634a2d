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

    /// Appends `value` as a JSON string literal to `out`.
    public static func append(_ value: String, to out: inout String) {
        out += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
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
