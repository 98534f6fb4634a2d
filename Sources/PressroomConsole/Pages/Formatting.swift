import Foundation

/// How numbers, times and durations read on the pages.
enum Formatting {
    static func count(_ value: Int) -> String {
        let digits = String(abs(value))
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return value < 0 ? "-" + out : out
    }

    static func count(_ value: Int?) -> String { value.map { count($0) } ?? "—" }

    /// `850ms`, `42s`, `3m 12s`, `5h 04m`, `2d 03h`.
    static func duration(seconds: Double) -> String {
        if seconds < 1 { return "\(Int((seconds * 1000).rounded()))ms" }
        let s = Int(seconds)
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m \(String(format: "%02d", s % 60))s" }
        if s < 86400 { return "\(s / 3600)h \(String(format: "%02d", (s % 3600) / 60))m" }
        return "\(s / 86400)d \(String(format: "%02d", (s % 86400) / 3600))h"
    }

    static func time(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss 'UTC'"
        return formatter.string(from: date)
    }

    static func time(ms: Int64) -> String { time(Date(timeIntervalSince1970: Double(ms) / 1000)) }

    static func minuteLabel(_ minute: Int64) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "HH:mm"
        return formatter.string(from: Date(timeIntervalSince1970: Double(minute) * 60))
    }

    /// `30s`, `15m`, `2h`, `7d` (also `1h30m`); nil for anything else.
    static func parseAge(_ text: String) -> TimeInterval? {
        var total: Double = 0
        var number = ""
        var sawUnit = false
        for c in text.lowercased() where c != " " {
            if c.isASCII && c.isNumber {
                number.append(c)
            } else {
                guard let n = Double(number), number.count <= 9 else { return nil }
                switch c {
                case "s": total += n
                case "m": total += n * 60
                case "h": total += n * 3600
                case "d": total += n * 86400
                case "w": total += n * 604_800
                default: return nil
                }
                number = ""
                sawUnit = true
            }
        }
        guard number.isEmpty, sawUnit, total <= 400 * 86400 else { return nil }
        return total
    }

    /// Pretty JSON when the text is a JSON object or array; else the text as is.
    static func prettyJSON(_ text: String) -> (text: String, isJSON: Bool) {
        guard let data = text.data(using: .utf8),
              let object = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]),
              object is [Any] || object is [String: Any],
              let pretty = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]) else {
            return (text, false)
        }
        return (String(decoding: pretty, as: UTF8.self), true)
    }
}
