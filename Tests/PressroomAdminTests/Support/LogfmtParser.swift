/// Parses one logfmt line back into pairs, following the logfmt convention
/// (bare words, or double-quoted strings with backslash escapes), so tests can
/// check that any value survives the round trip.
enum LogfmtParser {
    static func parse(_ line: String) -> [(String, String)]? {
        var pairs: [(String, String)] = []
        var scalars = Substring(line).unicodeScalars[...]
        func skipSpaces() { while scalars.first == " " { scalars.removeFirst() } }
        skipSpaces()
        while let first = scalars.first, first != "\n" {
            var key = ""
            while let c = scalars.first, c != "=", c != " ", c != "\n" { key.unicodeScalars.append(c); scalars.removeFirst() }
            guard scalars.first == "=" else { return nil }
            scalars.removeFirst()
            var value = ""
            if scalars.first == "\"" {
                scalars.removeFirst()
                var closed = false
                while let c = scalars.first {
                    scalars.removeFirst()
                    if c == "\"" { closed = true; break }
                    guard c == "\\" else { value.unicodeScalars.append(c); continue }
                    guard let e = scalars.first else { return nil }
                    scalars.removeFirst()
                    switch e {
                    case "n": value += "\n"
                    case "r": value += "\r"
                    case "t": value += "\t"
                    case "u":
                        let hex = String(String.UnicodeScalarView(scalars.prefix(4)))
                        scalars.removeFirst(4)
                        guard let code = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(code) else { return nil }
                        value.unicodeScalars.append(scalar)
                    default: value.unicodeScalars.append(e)
                    }
                }
                guard closed else { return nil }
            } else {
                while let c = scalars.first, c != " ", c != "\n" {
                    guard c != "\"", c != "=" else { return nil }
                    value.unicodeScalars.append(c)
                    scalars.removeFirst()
                }
            }
            pairs.append((key, value))
            skipSpaces()
        }
        return pairs
    }
}
