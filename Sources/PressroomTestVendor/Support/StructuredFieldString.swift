import Foundation

/// RFC 8941 sf-string: `"…"` with `\"` and `\\` escapes, printable ASCII only.
/// The IETF Idempotency-Key header is one.
enum StructuredFieldString {
    static func parse(_ raw: String) -> String? {
        let text = raw.trimmingCharacters(in: .whitespaces)
        let scalars = Array(text.unicodeScalars)
        guard scalars.count >= 2, scalars.first == "\"", scalars.last == "\"" else { return nil }
        var result = ""
        var index = 1
        while index < scalars.count - 1 {
            let scalar = scalars[index]
            if scalar == "\\" {
                guard index + 1 < scalars.count - 1, scalars[index + 1] == "\"" || scalars[index + 1] == "\\" else { return nil }
                result.unicodeScalars.append(scalars[index + 1])
                index += 2
                continue
            }
            guard scalar.value >= 0x20, scalar.value <= 0x7E, scalar != "\"" else { return nil }
            result.unicodeScalars.append(scalar)
            index += 1
        }
        return result
    }
}
