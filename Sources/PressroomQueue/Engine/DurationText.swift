/// A duration written the way operators write them in config and on the
/// command line: `250ms`, `30s`, `5m`, `2h`, `7d`, or a bare number of seconds.
public struct DurationText: Sendable, Equatable, Codable, CustomStringConvertible {
    public let duration: Duration

    public init(_ duration: Duration) {
        self.duration = duration
    }

    public init?(parsing text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)]
        for (suffix, scale) in units where trimmed.hasSuffix(suffix) {
            let number = trimmed.dropLast(suffix.count)
            // "ms" must win over "s": skip "s" when the text ends in "ms".
            if suffix == "s" && trimmed.hasSuffix("ms") { continue }
            guard let value = Double(number), value >= 0 else { return nil }
            self.duration = .milliseconds(Int64((value * scale * 1000).rounded()))
            return
        }
        guard let seconds = Double(trimmed), seconds >= 0 else { return nil }
        self.duration = .milliseconds(Int64((seconds * 1000).rounded()))
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let seconds = try? container.decode(Double.self) {
            guard seconds >= 0 else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "a duration cannot be negative")
            }
            self.duration = .milliseconds(Int64((seconds * 1000).rounded()))
            return
        }
        let text = try container.decode(String.self)
        guard let parsed = DurationText(parsing: text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "'\(text)' is not a duration (use e.g. 500ms, 30s, 5m, 2h, 7d)")
        }
        self = parsed
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    public var description: String {
        let ms = duration.milliseconds
        if ms % 86_400_000 == 0 && ms > 0 { return "\(ms / 86_400_000)d" }
        if ms % 3_600_000 == 0 && ms > 0 { return "\(ms / 3_600_000)h" }
        if ms % 60_000 == 0 && ms > 0 { return "\(ms / 60_000)m" }
        if ms % 1000 == 0 { return "\(ms / 1000)s" }
        return "\(ms)ms"
    }
}

import Foundation
