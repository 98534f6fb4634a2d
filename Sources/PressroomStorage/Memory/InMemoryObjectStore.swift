import Crypto
import Foundation
import Synchronization

/// An ``ObjectStore`` in a dictionary, with the same create-only and
/// checksum semantics as the real stores: for unit tests of code that uses
/// storage (image jobs, fulfillment) without a server or a directory.
public final class InMemoryObjectStore: ObjectStore {
    private struct Object {
        var data: Data
        var metadata: ObjectMetadata
        var tags: [String: String] = [:]
    }

    private let objects = Mutex<[String: Object]>([:])

    public init() {}

    public func get(_ key: String) async throws -> Data {
        try ObjectKey.validate(key)
        guard let object = objects.withLock({ $0[key] }) else { throw ObjectStoreError(.notFound, "no object \(key)") }
        return object.data
    }

    public func get(_ key: String, toFile file: URL, maxBytes: Int64?) async throws -> ObjectMetadata {
        try ObjectKey.validate(key)
        guard let object = objects.withLock({ $0[key] }) else { throw ObjectStoreError(.notFound, "no object \(key)") }
        if let maxBytes, Int64(object.data.count) > maxBytes {
            throw ObjectStoreError(.tooLarge, "object \(key) is longer than \(maxBytes) bytes")
        }
        // Into the file itself (truncated), so a caller's private file keeps its mode.
        guard let handle = FileHandle(forWritingAtPath: file.path) ?? {
            FileManager.default.createFile(atPath: file.path, contents: nil) ? FileHandle(forWritingAtPath: file.path) : nil
        }() else { throw ObjectStoreError(.io, "cannot open \(file.path) for writing") }
        defer { try? handle.close() }
        do {
            try handle.truncate(atOffset: 0)
            try handle.write(contentsOf: object.data)
        } catch {
            throw ObjectStoreError(.io, "write \(file.path): \(error.localizedDescription)")
        }
        var metadata = object.metadata
        metadata.checksumSHA256 = Data(SHA256.hash(data: object.data)).base64EncodedString()
        return metadata
    }

    public func head(_ key: String) async throws -> ObjectMetadata? {
        try ObjectKey.validate(key)
        return objects.withLock { $0[key]?.metadata }
    }

    public func putIfAbsent(_ key: String, data: Data, contentType: String) async throws -> PutOutcome {
        try insert(key, data: data, checksum: Data(SHA256.hash(data: data)).base64EncodedString(), contentType: contentType)
    }

    private func insert(_ key: String, data: Data, checksum: String, contentType: String) throws -> PutOutcome {
        try ObjectKey.validate(key)
        let metadata = ObjectMetadata(key: key, size: Int64(data.count), contentType: contentType, checksumSHA256: checksum, lastModified: Date())
        return try objects.withLock { objects in
            if let existing = objects[key] {
                guard existing.metadata.checksumSHA256 == checksum else {
                    throw ObjectStoreError(.conflict, "object \(key) already exists with different content")
                }
                return .alreadyExists
            }
            objects[key] = Object(data: data, metadata: metadata)
            return .created
        }
    }

    public func putIfAbsent(_ key: String, file: URL, contentType: String, sha256: String?) async throws -> PutOutcome {
        let given = try sha256.map { try KnownSHA256.digest(hex: $0).base64EncodedString() }
        let data: Data
        do {
            data = try Data(contentsOf: file)
        } catch {
            throw ObjectStoreError(.io, "read \(file.path): \(error.localizedDescription)")
        }
        let checksum = Data(SHA256.hash(data: data)).base64EncodedString()
        if let given, given != checksum { throw KnownSHA256.mismatch(key, actual: checksum, given: given) }
        return try insert(key, data: data, checksum: checksum, contentType: contentType)
    }

    public func delete(_ key: String) async throws {
        try ObjectKey.validate(key)
        _ = objects.withLock { $0.removeValue(forKey: key) }
    }

    public func list(prefix: String, limit: Int?) async throws -> [ObjectMetadata] {
        let all = objects.withLock { $0.values.map(\.metadata) }
            .filter { $0.key.hasPrefix(prefix) }
            .sorted { Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8)) }
        return limit.map { Array(all.prefix($0)) } ?? all
    }

    public func copyIfAbsent(from source: String, to destination: String) async throws -> PutOutcome {
        try ObjectKey.validate(source)
        guard let object = objects.withLock({ $0[source] }) else { throw ObjectStoreError(.notFound, "copy \(source): no such object") }
        return try await putIfAbsent(destination, data: object.data, contentType: object.metadata.contentType ?? "application/octet-stream")
    }

    public func setTags(_ key: String, _ tags: [String: String]) async throws {
        try ObjectKey.validate(key)
        try objects.withLock { objects in
            guard objects[key] != nil else { throw ObjectStoreError(.notFound, "no object \(key)") }
            objects[key]!.tags = tags
        }
    }

    public func tags(_ key: String) async throws -> [String: String] {
        try ObjectKey.validate(key)
        guard let object = objects.withLock({ $0[key] }) else { throw ObjectStoreError(.notFound, "no object \(key)") }
        return object.tags
    }

    /// A `memory://` URL (not fetchable; lets code under test carry a URL around).
    public func presignedURL(for key: String, method: PresignMethod, expiresIn: Duration) async throws -> URL {
        try ObjectKey.validate(key)
        return URL(string: "memory://objects/\(SigV4Encoding.encode(key, keepSlash: true))?method=\(method.rawValue)&expires=\(expiresIn.components.seconds)")!
    }
}
