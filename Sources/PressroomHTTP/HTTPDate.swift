import Foundation

/// HTTP dates (RFC 9110 §5.6.7) and `Retry-After`, parsed by hand.
///
/// Every S3 response carries `Last-Modified`, and a `DateFormatter` builds an
/// ICU formatter per instance: on the fulfil path that cost more CPU than the
/// rest of a HEAD's handling. The preferred format is fixed-width ASCII, so
/// it is read directly; the two obsolete formats senders may still use fall
/// back to a formatter.
public enum HTTPDate {
    /// `Sun, 06 Nov 1994 08:49:37 GMT`, or an obsolete RFC 850 / asctime date.
    public static func parse(_ text: some StringProtocol) -> Date? {
        var bytes = Array(text.utf8)
        while let last = bytes.last, last == 0x20 || last == 0x09 { bytes.removeLast() }
        bytes.removeFirst(bytes.firstIndex { $0 != 0x20 && $0 != 0x09 } ?? bytes.count)
        return fixdate(bytes) ?? obsolete(String(decoding: bytes, as: UTF8.self))
    }

    /// `Retry-After` (delay-seconds or an HTTP date) as seconds from now, never negative.
    public static func retryAfterSeconds(_ value: some StringProtocol) -> Double? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Double(trimmed) { return seconds.isFinite ? max(0, seconds) : nil }
        return parse(trimmed).map { max(0, $0.timeIntervalSinceNow) }
    }

    private static let months: [[UInt8]] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"].map { Array($0.utf8) }

    /// IMF-fixdate: 29 bytes, `Www, DD Mmm YYYY HH:MM:SS GMT`.
    static func fixdate(_ b: [UInt8]) -> Date? {
        guard b.count == 29, b[3] == UInt8(ascii: ","), b[4] == 0x20, b[7] == 0x20, b[11] == 0x20, b[16] == 0x20,
              b[19] == UInt8(ascii: ":"), b[22] == UInt8(ascii: ":"), b[25] == 0x20, Array(b[26...]) == Array("GMT".utf8) else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for i in range {
                guard (0x30...0x39).contains(b[i]) else { return nil }
                value = value * 10 + Int(b[i] - 0x30)
            }
            return value
        }
        guard let day = number(5..<7), let year = number(12..<16), let hour = number(17..<19),
              let minute = number(20..<22), let second = number(23..<25),
              let month = months.firstIndex(of: Array(b[8..<11])).map({ $0 + 1 }),
              (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
        let seconds = daysFromCivil(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second
        return Date(timeIntervalSince1970: TimeInterval(seconds))
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// RFC 850 (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime (`Sun Nov  6 08:49:37 1994`): rare, so a formatter is fine.
    static func obsolete(_ text: String) -> Date? {
        for format in ["EEEE',' dd'-'MMM'-'yy HH':'mm':'ss 'GMT'", "EEE MMM d HH':'mm':'ss yyyy"] {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "GMT")
            formatter.dateFormat = format
            formatter.isLenient = false
            if let date = formatter.date(from: text.replacingOccurrences(of: "  ", with: " ")) { return date }
        }
        return nil
    }
}
