import Foundation

/// RFC 3339 timestamps in UTC with milliseconds, as vendor APIs print them.
enum Timestamp {
    static func iso(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
