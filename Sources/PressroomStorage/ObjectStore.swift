import Foundation

/// What the image jobs need from object storage, and nothing more: the
/// filesystem store (quick start) and the S3 store both implement it, so the
/// daemon can swap one for the other from config.
///
/// Writes are create-only: outputs are keyed by content and policy digest, so
/// an existing object with the same checksum means an earlier attempt already
/// succeeded, and one with a different checksum is a conflict that must never
/// be overwritten. Every failure is an ``ObjectStoreError``.
public protocol ObjectStore: Sendable {
    /// The whole object. Throws ``ObjectStoreError`` `.notFound` when absent.
    func get(_ key: String) async throws -> Data

    /// Streams the object into `file` (created or truncated) without holding
    /// it in memory, for masters of hundreds of megabytes.
    func get(_ key: String, toFile file: URL) async throws -> ObjectMetadata

    /// Metadata, or `nil` when there is no such object.
    func head(_ key: String) async throws -> ObjectMetadata?

    /// Creates `key` unless it exists. An existing object with the same SHA-256
    /// returns `.alreadyExists`; a different one throws `.conflict`.
    func putIfAbsent(_ key: String, data: Data, contentType: String) async throws -> PutOutcome

    /// Like ``putIfAbsent(_:data:contentType:)`` but reads the bytes from
    /// `file`, so large objects are never loaded whole.
    func putIfAbsent(_ key: String, file: URL, contentType: String) async throws -> PutOutcome

    /// Removes `key`; removing an absent key is not an error.
    func delete(_ key: String) async throws

    /// Objects whose keys start with `prefix`, in key order, at most `limit`.
    func list(prefix: String, limit: Int?) async throws -> [ObjectMetadata]

    /// A URL a third party (a print vendor) can use without credentials to
    /// GET (or PUT) `key` until `expiresIn` has passed.
    func presignedURL(for key: String, method: PresignMethod, expiresIn: Duration) async throws -> URL
}
