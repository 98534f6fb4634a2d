/// How often and how late a job type is retried after transient failures.
public struct RetryPolicy: Sendable, Equatable, Codable {
    /// Total runs including the first; 1 means never retry.
    public var maxAttempts: Int
    public var initialBackoff: Duration
    public var maxBackoff: Duration
    public var multiplier: Double
    /// Fraction of the delay randomised (0.2 = ±20%), so a burst of failures
    /// does not come back as a burst of retries.
    public var jitter: Double

    public init(maxAttempts: Int = 5, initialBackoff: Duration = .seconds(1), maxBackoff: Duration = .seconds(300), multiplier: Double = 2, jitter: Double = 0.2) {
        self.maxAttempts = maxAttempts
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.multiplier = multiplier
        self.jitter = jitter
    }

    public static let `default` = RetryPolicy()

    /// Exponential backoff with jitter, capped, before run number `attempt + 1`.
    public func delay(afterAttempt attempt: Int, using generator: inout some RandomNumberGenerator) -> Duration {
        let base = initialBackoff.seconds * pow(multiplier, Double(max(0, attempt - 1)))
        let capped = min(base, maxBackoff.seconds)
        let spread = capped * jitter
        let jittered = spread > 0 ? Double.random(in: (capped - spread)...(capped + spread), using: &generator) : capped
        return .milliseconds(Int64(max(0, min(jittered, maxBackoff.seconds)) * 1000))
    }

    public func delay(afterAttempt attempt: Int) -> Duration {
        var generator = SystemRandomNumberGenerator()
        return delay(afterAttempt: attempt, using: &generator)
    }

    enum CodingKeys: String, CodingKey {
        case maxAttempts, initialBackoff, maxBackoff, multiplier, jitter
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = RetryPolicy()
        maxAttempts = try c.decodeIfPresent(Int.self, forKey: .maxAttempts) ?? d.maxAttempts
        initialBackoff = try c.decodeIfPresent(DurationText.self, forKey: .initialBackoff)?.duration ?? d.initialBackoff
        maxBackoff = try c.decodeIfPresent(DurationText.self, forKey: .maxBackoff)?.duration ?? d.maxBackoff
        multiplier = try c.decodeIfPresent(Double.self, forKey: .multiplier) ?? d.multiplier
        jitter = try c.decodeIfPresent(Double.self, forKey: .jitter) ?? d.jitter
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(maxAttempts, forKey: .maxAttempts)
        try c.encode(DurationText(initialBackoff), forKey: .initialBackoff)
        try c.encode(DurationText(maxBackoff), forKey: .maxBackoff)
        try c.encode(multiplier, forKey: .multiplier)
        try c.encode(jitter, forKey: .jitter)
    }
}

import Foundation

extension Duration {
    /// Seconds as a Double, for arithmetic.
    public var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }

    var milliseconds: Int64 {
        let (s, atto) = components
        return s * 1000 + atto / 1_000_000_000_000_000
    }
}
