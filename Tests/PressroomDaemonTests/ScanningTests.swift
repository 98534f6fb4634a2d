import Foundation
@testable import PressroomDaemon
import PressroomQueue
import PressroomScan
import PressroomStorage
import Testing

/// The scan gate in derive and render, against the real clamd of
/// scripts/services/clamd.sh (the repo's signature database only).
@Suite struct ScanningTests {
    func scan(_ configure: (inout ScanSettings) -> Void = { _ in }) throws -> ScanSettings {
        var settings = ScanSettings(address: try LifecycleHarness.env("PRESSROOM_TEST_CLAMD_ADDRESS"))
        configure(&settings)
        return settings
    }

    @Test func anEicarUploadIsQuarantinedAnnouncedAndNeverDerived() async throws {
        let h = try LifecycleHarness(scan: try scan())
        try await h.put("uploads/eicar.jpg", LifecycleHarness.eicar)
        let error = try await h.failure("derive", id: "d-eicar", payload: #"{"source":"uploads/eicar.jpg"}"#)
        #expect(error.errorClass == .permanent)
        #expect(error.message.contains("Eicar-Test-Signature"), "\(error.message)")
        #expect(try await h.store.head("uploads/eicar.jpg") == nil, "moved out of the source prefix")
        #expect(try await h.store.head("quarantine/uploads/eicar.jpg") != nil)
        #expect(try await h.keys(under: "derived/").isEmpty, "nothing derived")
        let infected = try await h.events("derive").filter { $0["event"] == "infected" }
        #expect(infected.count == 1)
        #expect(infected.first?["signature"]?.hasPrefix("Eicar-Test-Signature") == true)
        #expect(infected.first?["action"] == "quarantined")
        #expect(infected.first?["id"] == "d-eicar")
        // A render of the same bytes under another key is refused from the
        // recorded verdict: no second scan (clamd could be gone by now).
        let offline = try LifecycleHarness(scan: ScanSettings(address: "tcp://127.0.0.1:1"), configure: { $0.redis.namespace = h.namespace })
        try await offline.put("uploads/again.jpg", LifecycleHarness.eicar)
        let again = try await offline.failure("render", payload: #"{"source":"uploads/again.jpg","policy":"sticker-small"}"#)
        #expect(again.errorClass == .permanent)
        #expect(again.message.contains("Eicar-Test-Signature"))
        #expect(try await offline.keys(under: "masters/").isEmpty)
    }

    @Test func aRealPhotoPassesAndIsScannedOnce() async throws {
        let h = try LifecycleHarness(scan: try scan())
        try await h.put("uploads/photo.jpg", LifecycleHarness.photo)
        let result = try await h.run("derive", payload: #"{"source":"uploads/photo.jpg"}"#)
        let outputs = try #require(result["outputs"] as? [[String: Any]])
        #expect(outputs.contains { $0["policy"] as? String == "preview" })
        let sha = try #require(result["sha256"] as? String)
        let verdict = try #require(try await h.lifecycle.ledger.verdict(sha256: sha))
        #expect(verdict.verdict == .clean)
        #expect(verdict.engine.hasPrefix("ClamAV"))
        // With clamd unreachable, a render of the same upload still runs: its verdict is known.
        let offline = try LifecycleHarness(scan: ScanSettings(address: "tcp://127.0.0.1:1"), store: h.store, configure: { $0.redis.namespace = h.namespace })
        let render = try await offline.run("render", payload: #"{"source":"uploads/photo.jpg","policy":"sticker-small"}"#)
        #expect(render["created"] as? Bool == true)
    }

    @Test func theCustomSignatureCanTagInsteadOfQuarantining() async throws {
        let h = try LifecycleHarness(scan: try scan { $0.onInfected = .tag; $0.chunkBytes = 4096 })
        try await h.put("uploads/marked.jpg", LifecycleHarness.markedPhoto)
        let error = try await h.failure("derive", payload: #"{"source":"uploads/marked.jpg"}"#)
        #expect(error.message.contains("Pressroom.Test.MarkedPhoto"))
        let tags = try await h.store.tags("uploads/marked.jpg")
        #expect(tags["pressroom-scan"] == "infected")
        #expect(tags["pressroom-signature"]?.hasPrefix("Pressroom.Test.MarkedPhoto") == true)
        #expect(try await h.keys(under: "derived/").isEmpty, "a decodable photo flagged by clamd is never decoded")
    }

    @Test func anUnreachableClamdIsTransientAndNothingIsDerived() async throws {
        let h = try LifecycleHarness(scan: ScanSettings(address: "tcp://127.0.0.1:1"))
        try await h.put("uploads/photo.jpg", LifecycleHarness.photo)
        let error = try await h.failure("derive", payload: #"{"source":"uploads/photo.jpg"}"#)
        #expect(error.errorClass == .transient, "\(error)")
        #expect(error.message.contains("did not give a verdict"))
        #expect(try await h.keys(under: "derived/").isEmpty)
        let socket = try LifecycleHarness(scan: ScanSettings(address: "unix:///nonexistent/clamd.sock"), store: h.store)
        #expect(try await socket.failure("derive", payload: #"{"source":"uploads/photo.jpg"}"#).errorClass == .transient)
    }

    @Test func scanningOverAUnixSocketAndSourcesLongerThanTheStreamLimit() async throws {
        let socket = try LifecycleHarness.env("PRESSROOM_TEST_CLAMD_SOCKET")
        let h = try LifecycleHarness(scan: ScanSettings(address: "unix://" + socket))
        try await h.put("uploads/photo.jpg", LifecycleHarness.photo)
        _ = try await h.run("derive", payload: #"{"source":"uploads/photo.jpg"}"#)
        // A limit below the photo's size: refused, not half-scanned and passed.
        let small = try LifecycleHarness(scan: try scan { $0.streamMaxLength = 1000 })
        try await small.put("uploads/photo.jpg", LifecycleHarness.photo)
        let error = try await small.failure("derive", payload: #"{"source":"uploads/photo.jpg"}"#)
        #expect(error.errorClass == .permanent)
        #expect(error.message.contains("scan.streamMaxLength"), "\(error.message)")
    }

    /// Counts GETs, to prove a refused source was never downloaded.
    final class CountingStore: ObjectStore, @unchecked Sendable {
        let base: any ObjectStore
        let lock = NSLock()
        var gets = 0
        init(_ base: any ObjectStore) { self.base = base }
        func get(_ key: String) async throws -> Data { lock.withLock { gets += 1 }; return try await base.get(key) }
        func get(_ key: String, toFile file: URL, maxBytes: Int64?) async throws -> ObjectMetadata { lock.withLock { gets += 1 }; return try await base.get(key, toFile: file, maxBytes: maxBytes) }
        func head(_ key: String) async throws -> ObjectMetadata? { try await base.head(key) }
        func putIfAbsent(_ key: String, data: Data, contentType: String) async throws -> PutOutcome { try await base.putIfAbsent(key, data: data, contentType: contentType) }
        func putIfAbsent(_ key: String, file: URL, contentType: String, sha256: String?) async throws -> PutOutcome { try await base.putIfAbsent(key, file: file, contentType: contentType, sha256: sha256) }
        func delete(_ key: String) async throws { try await base.delete(key) }
        func list(prefix: String, limit: Int?) async throws -> [ObjectMetadata] { try await base.list(prefix: prefix, limit: limit) }
        func presignedURL(for key: String, method: PresignMethod, expiresIn: Duration) async throws -> URL { try await base.presignedURL(for: key, method: method, expiresIn: expiresIn) }
    }

    @Test func aHeadChecksTheSizeBeforeAnyDownload() async throws {
        nonisolated(unsafe) var counting: CountingStore?
        let h = try LifecycleHarness(scan: try scan(), wrap: { base in
            let store = CountingStore(base)
            counting = store
            return store
        }, configure: { $0.imaging.maxBytes = 10_000 })
        try await h.put("uploads/photo.jpg", LifecycleHarness.photo)
        let error = try await h.failure("derive", payload: #"{"source":"uploads/photo.jpg"}"#)
        #expect(error.errorClass == .permanent)
        #expect(error.message.contains("imaging.maxBytes"), "\(error.message)")
        #expect(counting?.gets == 0, "refused by HEAD, never downloaded")
        let missing = try await h.failure("derive", payload: #"{"source":"uploads/none.jpg"}"#)
        #expect(missing.message.contains("does not exist"))
        #expect(counting?.gets == 0)
    }
}
