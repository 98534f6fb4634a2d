/// What the header says about an input, read before any pixel is decoded.
public struct ImageProbe: Sendable, Codable, Equatable {
    public var format: ImageFormat
    public var byteCount: Int
    /// Stored dimensions (of the first page).
    public var width: Int
    public var height: Int
    /// EXIF orientation 1...8 (1 when absent).
    public var orientation: Int
    public var bands: Int
    public var bitsPerSample: Int
    public var hasAlpha: Bool
    /// libvips' interpretation (srgb, cmyk, b-w, rgb16...).
    public var interpretation: String
    /// Pages or animation frames; only the first is used.
    public var pageCount: Int
    /// Colour space of the embedded ICC profile (validated), nil when none.
    public var embeddedProfile: String?

    /// Dimensions after auto-rotation (orientations 5–8 swap them).
    public var uprightWidth: Int { orientation >= 5 ? height : width }
    public var uprightHeight: Int { orientation >= 5 ? width : height }
}
