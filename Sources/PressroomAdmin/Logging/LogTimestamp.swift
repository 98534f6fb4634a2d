#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// RFC 3339 UTC timestamps with milliseconds (`2026-11-29T07:20:04.123Z`),
/// formatted by hand: Foundation's formatters are slow and not meant to be
/// shared across threads, and every log line needs one.
enum LogTimestamp {
    static func now() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return format(seconds: now.tv_sec, nanoseconds: Int(now.tv_nsec))
    }

    static func format(seconds: time_t, nanoseconds: Int) -> String {
        var seconds = seconds
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var text = ""
        text.reserveCapacity(24)
        text += pad(Int(parts.tm_year) + 1900, 4)
        text += "-" + pad(Int(parts.tm_mon) + 1, 2)
        text += "-" + pad(Int(parts.tm_mday), 2)
        text += "T" + pad(Int(parts.tm_hour), 2)
        text += ":" + pad(Int(parts.tm_min), 2)
        text += ":" + pad(Int(parts.tm_sec), 2)
        text += "." + pad(nanoseconds / 1_000_000, 3) + "Z"
        return text
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}
