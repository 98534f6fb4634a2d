/// The source facts the quality report carries.
public struct SourceSummary: Sendable, Codable, Equatable {
    public var sha256: String
    public var format: ImageFormat
    public var width: Int
    public var height: Int
    public var orientation: Int
    public var pageCount: Int
    public var bitsPerSample: Int
    public var hasAlpha: Bool
    public var embeddedProfile: String?
}
