import Foundation
import Metrics

/// Wraps any store and counts its requests, bytes and errors, so every
/// backend reports the same `pressroom_object_store_*` metrics without each
/// implementation knowing about metrics.
public struct MeteredObjectStore: ObjectStore {
    public let base: any ObjectStore
    public let backend: String

    public init(_ base: any ObjectStore, backend: String) {
        self.base = base
        self.backend = backend
    }

    public func get(_ key: String) async throws -> Data {
        try await measure("get") {
            let data = try await base.get(key)
            return (data, Int64(data.count))
        }
    }

    public func get(_ key: String, toFile file: URL, maxBytes: Int64?) async throws -> ObjectMetadata {
        try await measure("get") {
            let metadata = try await base.get(key, toFile: file, maxBytes: maxBytes)
            return (metadata, metadata.size)
        }
    }

    public func head(_ key: String) async throws -> ObjectMetadata? {
        try await measure("head") { (try await base.head(key), 0) }
    }

    public func putIfAbsent(_ key: String, data: Data, contentType: String) async throws -> PutOutcome {
        try await measure("put") {
            let outcome = try await base.putIfAbsent(key, data: data, contentType: contentType)
            return (outcome, outcome == .created ? Int64(data.count) : 0)
        }
    }

    public func putIfAbsent(_ key: String, file: URL, contentType: String, sha256: String?) async throws -> PutOutcome {
        try await measure("put") {
            let outcome = try await base.putIfAbsent(key, file: file, contentType: contentType, sha256: sha256)
            let size = (try? FileManager.default.attributesOfItem(atPath: file.path))?[.size] as? Int64 ?? 0
            return (outcome, outcome == .created ? size : 0)
        }
    }

    public func delete(_ key: String) async throws {
        try await measure("delete") { (try await base.delete(key), 0) }
    }

    public func list(prefix: String, limit: Int?) async throws -> [ObjectMetadata] {
        try await measure("list") { (try await base.list(prefix: prefix, limit: limit), 0) }
    }

    public func listPage(prefix: String, after cursor: String?, limit: Int) async throws -> ObjectListPage {
        try await measure("list") { (try await base.listPage(prefix: prefix, after: cursor, limit: limit), 0) }
    }

    public func delete(keys: [String]) async throws -> [String: String] {
        try await measure("delete") { (try await base.delete(keys: keys), 0) }
    }

    public func copyIfAbsent(from source: String, to destination: String) async throws -> PutOutcome {
        try await measure("copy") { (try await base.copyIfAbsent(from: source, to: destination), 0) }
    }

    public func setTags(_ key: String, _ tags: [String: String]) async throws {
        try await measure("tag") { (try await base.setTags(key, tags), 0) }
    }

    public func tags(_ key: String) async throws -> [String: String] {
        try await measure("tag") { (try await base.tags(key), 0) }
    }

    public func presignedURL(for key: String, method: PresignMethod, expiresIn: Duration) async throws -> URL {
        try await base.presignedURL(for: key, method: method, expiresIn: expiresIn)
    }

    private func measure<T>(_ operation: String, _ body: () async throws -> (T, Int64)) async throws -> T {
        do {
            let (value, bytes) = try await body()
            Counter(label: "pressroom_object_store_requests_total", dimensions: [("backend", backend), ("operation", operation), ("status", "ok")]).increment()
            if bytes > 0 {
                Counter(label: "pressroom_object_store_bytes_total", dimensions: [("backend", backend), ("operation", operation)]).increment(by: bytes)
            }
            return value
        } catch {
            let transient = (error as? ObjectStoreError)?.isTransient ?? true
            Counter(label: "pressroom_object_store_requests_total", dimensions: [("backend", backend), ("operation", operation), ("status", "error")]).increment()
            Counter(label: "pressroom_object_store_errors_total", dimensions: [("backend", backend), ("operation", operation), ("class", transient ? "transient" : "permanent")]).increment()
            throw error
        }
    }
}
