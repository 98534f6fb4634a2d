import Foundation

/// What the image jobs need from object storage, and nothing more: the
/// filesystem store (quick start) and the S3 store both implement it, so the
/// daemon can swap one for the other from config.
///
/// Writes are create-only: outputs are keyed by content and policy digest, so
/// an existing object with the same checksum means an earlier attempt already
/// succeeded, and one with a different checksum is a conflict that must never
/// be overwritten.
public protocol ObjectStore: Sendable {
    /// The whole object. Throws ``ObjectStoreError`` `.notFound` when absent.
    func get(_ key: String) async throws -> Data

    /// Metadata, or `nil` when there is no such object.
    func head(_ key: String) async throws -> ObjectMetadata?

    /// Creates `key` unless it exists. An existing object with the same SHA-256
    /// returns `.alreadyExists`; a different one throws `.conflict`.
    func putIfAbsent(_ key: String, data: Data, contentType: String) async throws -> PutOutcome

    /// Removes `key`; removing an absent key is not an error.
    func delete(_ key: String) async throws

    /// Objects whose keys start with `prefix`, in key order, at most `limit`.
    func list(prefix: String, limit: Int?) async throws -> [ObjectMetadata]
}

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

/// Result of a create-only write.
public enum PutOutcome: Sendable, Equatable {
    case created
    /// The same bytes were already stored (an earlier attempt succeeded).
    case alreadyExists
}
