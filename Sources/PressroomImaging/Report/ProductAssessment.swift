/// One product's line in the quality report.
public struct ProductAssessment: Sendable, Codable, Equatable {
    public var policy: String
    public var title: String
    public var policyDigest: String
    public var verdict: Verdict
    /// Source pixels per printed inch with the default (centred) crop.
    public var effectiveDPI: Double
    /// Print size in inches, oriented like the photo.
    public var printWidthInches: Double
    public var printHeightInches: Double
    /// Percentage of the photo cut away to fit the product's aspect.
    public var cropLossPercent: Double
    /// Percentage of pixels the output profile cannot reproduce (CMYK products only).
    public var gamutWarningPercent: Double?
    /// Why the verdict is not `ok`.
    public var reasons: [String]
}
