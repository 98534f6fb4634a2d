import Foundation

/// What a store knows about one object.
public struct ObjectMetadata: Sendable, Equatable {
    public var key: String
    public var size: Int64
    public var contentType: String?
    /// Base64 SHA-256 of the content, as S3's `x-amz-checksum-sha256` carries it.
    public var checksumSHA256: String?
    public var lastModified: Date?
    /// Hex MD5 of the content when the store knows it (an S3 ETag of a
    /// single-part upload is one), for vendor APIs that take an MD5.
    public var md5Hex: String?

    public init(key: String, size: Int64, contentType: String? = nil, checksumSHA256: String? = nil, lastModified: Date? = nil, md5Hex: String? = nil) {
        self.md5Hex = md5Hex
        self.key = key
        self.size = size
        self.contentType = contentType
        self.checksumSHA256 = checksumSHA256
        self.lastModified = lastModified
    }
}
