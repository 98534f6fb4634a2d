/// How transient failures (5xx, SlowDown, resets, stalls) are retried:
/// exponential backoff with full jitter, never shorter than `Retry-After`.
public struct S3RetryPolicy: Sendable, Codable, Equatable {
    /// Attempts in all, including the first.
    public var maxAttempts: Int
    public var initialBackoffSeconds: Double
    public var maxBackoffSeconds: Double
    /// Upper bound for a server's `Retry-After`, so one header cannot park a worker for an hour.
    public var maxRetryAfterSeconds: Double

    public init(maxAttempts: Int = 4, initialBackoffSeconds: Double = 0.2, maxBackoffSeconds: Double = 10, maxRetryAfterSeconds: Double = 30) {
        self.maxAttempts = maxAttempts
        self.initialBackoffSeconds = initialBackoffSeconds
        self.maxBackoffSeconds = maxBackoffSeconds
        self.maxRetryAfterSeconds = maxRetryAfterSeconds
    }

    /// Seconds to wait before attempt `attempt + 1` (`attempt` counts from 1).
    public func delay(afterAttempt attempt: Int, retryAfter: Double?) -> Double {
        let ceiling = min(maxBackoffSeconds, initialBackoffSeconds * Double(1 << min(attempt - 1, 20)))
        let jittered = Double.random(in: 0...max(ceiling, 0))
        guard let retryAfter else { return jittered }
        return max(min(retryAfter, maxRetryAfterSeconds), jittered)
    }

    enum CodingKeys: String, CodingKey { case maxAttempts, initialBackoffSeconds, maxBackoffSeconds, maxRetryAfterSeconds }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = S3RetryPolicy()
        maxAttempts = try c.decodeIfPresent(Int.self, forKey: .maxAttempts) ?? d.maxAttempts
        initialBackoffSeconds = try c.decodeIfPresent(Double.self, forKey: .initialBackoffSeconds) ?? d.initialBackoffSeconds
        maxBackoffSeconds = try c.decodeIfPresent(Double.self, forKey: .maxBackoffSeconds) ?? d.maxBackoffSeconds
        maxRetryAfterSeconds = try c.decodeIfPresent(Double.self, forKey: .maxRetryAfterSeconds) ?? d.maxRetryAfterSeconds
    }
}
