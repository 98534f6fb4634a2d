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

    /// Streams the object into `file` (created or truncated; an existing file
    /// keeps its mode, so a caller's private spool file stays private) without
    /// holding it in memory, for sources and masters of hundreds of megabytes.
    /// An object longer than `maxBytes` throws ``ObjectStoreError`` `.tooLarge`
    /// as soon as the store knows it: from its size, or once that many bytes
    /// arrived (the file then holds a part of it, for the caller to remove).
    /// The metadata's `checksumSHA256` is that of the bytes written, hashed
    /// as they were written, and `size` their count.
    func get(_ key: String, toFile file: URL, maxBytes: Int64?) async throws -> ObjectMetadata

    /// Metadata, or `nil` when there is no such object.
    func head(_ key: String) async throws -> ObjectMetadata?

    /// Creates `key` unless it exists. An existing object with the same SHA-256
    /// returns `.alreadyExists`; a different one throws `.conflict`.
    func putIfAbsent(_ key: String, data: Data, contentType: String) async throws -> PutOutcome

    /// Like ``putIfAbsent(_:data:contentType:)`` but reads the bytes from
    /// `file`, so large objects are never loaded whole.
    ///
    /// `sha256` is the file's SHA-256 (64 hex digits) when the caller already
    /// computed it (a master hashed while it was encoded): the store then
    /// skips its own pass over the file before uploading, and still checks
    /// the digest against the bytes it stores. A digest that does not match
    /// throws `.checksumMismatch` and stores nothing; `nil` means the store
    /// computes it.
    func putIfAbsent(_ key: String, file: URL, contentType: String, sha256: String?) async throws -> PutOutcome

    /// Removes `key`; removing an absent key is not an error.
    func delete(_ key: String) async throws

    /// Objects whose keys start with `prefix`, in key order, at most `limit`.
    func list(prefix: String, limit: Int?) async throws -> [ObjectMetadata]

    /// Up to `limit` objects under `prefix` whose keys sort after `cursor`
    /// (exclusive), for paged walks: a sweep resumes where it stopped.
    func listPage(prefix: String, after cursor: String?, limit: Int) async throws -> ObjectListPage

    /// Deletes many keys, batched where the backend can (S3 DeleteObjects,
    /// 1000 a request). Absent keys are not errors. Returns the keys the
    /// backend refused, with its reason.
    func delete(keys: [String]) async throws -> [String: String]

    /// Copies `source` to `destination` inside the store (no download),
    /// create-only like ``putIfAbsent(_:data:contentType:)``.
    func copyIfAbsent(from source: String, to destination: String) async throws -> PutOutcome

    /// Replaces the object's tags (S3 object tagging; the filesystem store
    /// keeps them in the metadata sidecar).
    func setTags(_ key: String, _ tags: [String: String]) async throws

    /// The object's tags; empty when it has none. Throws `.notFound` when absent.
    func tags(_ key: String) async throws -> [String: String]

    /// A URL a third party (a print vendor) can use without credentials to
    /// GET (or PUT) `key` until `expiresIn` has passed.
    func presignedURL(for key: String, method: PresignMethod, expiresIn: Duration) async throws -> URL
}

extension ObjectStore {
    /// The whole object into `file`, however long.
    public func get(_ key: String, toFile file: URL) async throws -> ObjectMetadata {
        try await get(key, toFile: file, maxBytes: nil)
    }

    /// The store computes the file's SHA-256 itself.
    public func putIfAbsent(_ key: String, file: URL, contentType: String) async throws -> PutOutcome {
        try await putIfAbsent(key, file: file, contentType: contentType, sha256: nil)
    }

    /// One delete per key: for stores without a batch operation.
    public func delete(keys: [String]) async throws -> [String: String] {
        for key in keys { try await delete(key) }
        return [:]
    }

    /// Filters a full listing: for stores that cannot start a listing at a key.
    public func listPage(prefix: String, after cursor: String?, limit: Int) async throws -> ObjectListPage {
        let all = try await list(prefix: prefix, limit: nil)
        let after = cursor.map { Array($0.utf8) }
        let page = all.lazy.filter { after == nil || after!.lexicographicallyPrecedes(Array($0.key.utf8)) }.prefix(limit)
        let objects = Array(page)
        return ObjectListPage(objects: objects, next: objects.count == limit ? objects.last?.key : nil)
    }

    public func copyIfAbsent(from source: String, to destination: String) async throws -> PutOutcome {
        throw ObjectStoreError(.unsupported, "this store cannot copy objects")
    }

    public func setTags(_ key: String, _ tags: [String: String]) async throws {
        throw ObjectStoreError(.unsupported, "this store cannot tag objects")
    }

    public func tags(_ key: String) async throws -> [String: String] {
        throw ObjectStoreError(.unsupported, "this store cannot tag objects")
    }
}
