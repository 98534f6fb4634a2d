import Foundation

/// The pre-checkout report: for every product, whether this photo is good enough and why.
public struct QualityReport: Sendable, Codable, Equatable {
    public var pipelineVersion: Int
    public var catalogDigest: String
    public var source: SourceSummary
    /// Variance of the Laplacian of the luminance at 1024 px on the long edge: higher is sharper.
    public var sharpness: Double
    /// True when `sharpness` is below the threshold at which photos look soft in print.
    public var blurry: Bool
    public var products: [ProductAssessment]
    /// Products whose verdict is `ok`, best resolution first.
    public var suggestedProducts: [String]

    /// Sharpness below which the report flags a photo as blurry.
    public static let blurThreshold = 60.0

    /// Stable JSON (sorted keys), so identical reports are identical bytes.
    public func jsonData(pretty: Bool = true) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted] : [.sortedKeys]
        return try encoder.encode(self)
    }
}
