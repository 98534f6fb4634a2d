/// The checks a master passed (a failed check throws `verificationFailed` instead).
public struct VerificationResult: Sendable, Codable, Equatable {
    public var width: Int
    public var height: Int
    public var colorSpace: String
    public var profileBytes: Int
    /// Standard deviation of the pixels (a blank master is ~0).
    public var pixelDeviation: Double
    /// Mean absolute difference (0–255) between the downscaled master and preview; nil when no preview was given.
    public var previewDifference: Double?
}
