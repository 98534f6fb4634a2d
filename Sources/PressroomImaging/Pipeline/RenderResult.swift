/// A verified print master.
public struct RenderResult: Sendable {
    public var master: MasterFile
    public var verification: VerificationResult
    /// The crop actually used (the customer's, trimmed to the product aspect).
    public var crop: CropRect
    public var effectiveDPI: Double?
}
