import Foundation

/// What a store knows about one object.
public struct ObjectMetadata: Sendable, Equatable {
    public var key: String
    public var size: Int64
    public var contentType: String?
    /// Base64 SHA-256 of the content, as S3's `x-amz-checksum-sha256` carries it.
    public var checksumSHA256: String?
    public var lastModified: Date?

    public init(key: String, size: Int64, contentType: String? = nil, checksumSHA256: String? = nil, lastModified: Date? = nil) {
        self.key = key
        self.size = size
        self.contentType = contentType
        self.checksumSHA256 = checksumSHA256
        self.lastModified = lastModified
    }
}
