import Foundation
@testable import PressroomDaemon
import PressroomImaging
import PressroomQueue
import PressroomScan
import PressroomStorage
import Synchronization
import Testing

/// A render spools its source from the store into a private file, scans and decodes that file,
/// and removes it whatever the outcome; against the real clamd of scripts/services/clamd.sh.
@Suite struct SourceSpoolTests {
    /// Records the files the store streams objects into (with their mode while the job runs),
    /// counts whole-object reads, and can report a smaller size on HEAD than the object has.
    final class SpoolWatchingStore: ObjectStore, Sendable {
        struct Spooled: Sendable { let file: URL; let mode: mode_t; let maxBytes: Int64? }
        let base: any ObjectStore
        let headSize: Int64?
        let state = Mutex<(spooled: [Spooled], wholeReads: Int)>(([], 0))
        init(_ base: any ObjectStore, headSize: Int64? = nil) {
            self.base = base
            self.headSize = headSize
        }
        var spooled: [Spooled] { state.withLock { $0.spooled } }
        var wholeReads: Int { state.withLock { $0.wholeReads } }

        func get(_ key: String) async throws -> Data {
            if key.hasPrefix("uploads/") { state.withLock { $0.wholeReads += 1 } }
            return try await base.get(key)
        }
        func get(_ key: String, toFile file: URL, maxBytes: Int64?) async throws -> ObjectMetadata {
            var st = stat()
            let mode: mode_t = stat(file.path, &st) == 0 ? st.st_mode & 0o7777 : 0
            state.withLock { $0.spooled.append(.init(file: file, mode: mode, maxBytes: maxBytes)) }
            return try await base.get(key, toFile: file, maxBytes: maxBytes)
        }
        func head(_ key: String) async throws -> ObjectMetadata? {
            guard var metadata = try await base.head(key) else { return nil }
            if let headSize { metadata.size = headSize }
            return metadata
        }
        func putIfAbsent(_ key: String, data: Data, contentType: String) async throws -> PutOutcome { try await base.putIfAbsent(key, data: data, contentType: contentType) }
        func putIfAbsent(_ key: String, file: URL, contentType: String, sha256: String?) async throws -> PutOutcome { try await base.putIfAbsent(key, file: file, contentType: contentType, sha256: sha256) }
        func delete(_ key: String) async throws { try await base.delete(key) }
        func list(prefix: String, limit: Int?) async throws -> [ObjectMetadata] { try await base.list(prefix: prefix, limit: limit) }
        func copyIfAbsent(from source: String, to destination: String) async throws -> PutOutcome { try await base.copyIfAbsent(from: source, to: destination) }
        func setTags(_ key: String, _ tags: [String: String]) async throws { try await base.setTags(key, tags) }
        func presignedURL(for key: String, method: PresignMethod, expiresIn: Duration) async throws -> URL { try await base.presignedURL(for: key, method: method, expiresIn: expiresIn) }
    }

    func harness(headSize: Int64? = nil, maxBytes: Int? = nil) throws -> (LifecycleHarness, SpoolWatchingStore) {
        nonisolated(unsafe) var watching: SpoolWatchingStore?
        let h = try LifecycleHarness(scan: ScanSettings(address: try LifecycleHarness.env("PRESSROOM_TEST_CLAMD_ADDRESS")), wrap: { base in
            let store = SpoolWatchingStore(base, headSize: headSize)
            watching = store
            return store
        }, configure: { if let maxBytes { $0.imaging.maxBytes = maxBytes } })
        return (h, try #require(watching))
    }

    @Test func aRenderScansItsSpooledSourceAndRemovesTheFile() async throws {
        let (h, store) = try harness()
        try await h.put("uploads/photo.jpg", LifecycleHarness.photo)
        let result = try await h.run("render", payload: #"{"source":"uploads/photo.jpg","policy":"sticker-small"}"#)
        #expect(result["created"] as? Bool == true)
        let sha = Imaging.sha256(LifecycleHarness.photo)
        #expect((result["key"] as? String)?.hasPrefix("masters/\(sha)/") == true, "keyed by the SHA-256 hashed while spooling")

        // Spooled once: a private, exclusively created file in the spool directory, capped at imaging.maxBytes.
        let spooled = try #require(store.spooled.first)
        #expect(store.spooled.count == 1)
        #expect(spooled.file.lastPathComponent.hasPrefix(Imaging.sourceSpoolPrefix))
        #expect(spooled.file.deletingLastPathComponent().standardizedFileURL.path == FileManager.default.temporaryDirectory.standardizedFileURL.path)
        #expect(spooled.mode == 0o600)
        #expect(spooled.maxBytes == Int64(h.configuration.imaging.maxBytes))
        // Scanned: clamd's verdict is recorded for the spooled bytes, and no part of the job read them into memory.
        let verdict = try #require(try await h.lifecycle.ledger.verdict(sha256: sha))
        #expect(verdict.verdict == .clean && verdict.engine.hasPrefix("ClamAV"))
        #expect(store.wholeReads == 0)
        #expect(!FileManager.default.fileExists(atPath: spooled.file.path), "the spooled source is removed")
    }

    @Test func anInfectedSpooledSourceIsRefusedAndItsFileRemoved() async throws {
        let (h, store) = try harness()
        try await h.put("uploads/eicar.jpg", LifecycleHarness.eicar)
        let error = try await h.failure("render", payload: #"{"source":"uploads/eicar.jpg","policy":"sticker-small"}"#)
        #expect(error.errorClass == .permanent)
        #expect(error.message.contains("Eicar-Test-Signature"), "\(error.message)")
        #expect(try await h.keys(under: "masters/").isEmpty)
        let spooled = try #require(store.spooled.first)
        #expect(!FileManager.default.fileExists(atPath: spooled.file.path))
    }

    /// A store whose HEAD understates the size: the cap stops the download itself.
    @Test func theByteCapStopsTheDownloadAndTheFileIsRemoved() async throws {
        let (h, store) = try harness(headSize: 100, maxBytes: 10_000)
        try await h.put("uploads/big.jpg", LifecycleHarness.photo)
        let error = try await h.failure("render", payload: #"{"source":"uploads/big.jpg","policy":"sticker-small"}"#)
        #expect(error.errorClass == .permanent)
        #expect(error.message.contains("imaging.maxBytes"), "\(error.message)")
        let spooled = try #require(store.spooled.first)
        #expect(!FileManager.default.fileExists(atPath: spooled.file.path))
    }
}
