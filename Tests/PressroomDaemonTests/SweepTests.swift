import Foundation
@testable import PressroomDaemon
import PressroomQueue
import PressroomStorage
import Testing

/// Draft expiry: the `sweep` job against the filesystem store (ages set on
/// the files) and against moto (S3 paging and DeleteObjects batches).
@Suite struct SweepTests {
    /// Backdates an object in the filesystem store.
    func age(_ h: LifecycleHarness, _ key: String, days: Double) throws {
        let path = h.directory.appendingPathComponent("store/objects/\(key)").path
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-days * 86400)], ofItemAtPath: path)
    }

    @Test func expiredDraftsGoWithTheirDerivativesAndOrderedSourcesStay() async throws {
        let h = try LifecycleHarness(configure: { $0.retention.pageSize = 2 })
        for name in ["old-draft", "fresh", "ordered", "order-expired"] {
            try await h.put("uploads/\(name).jpg", name == "fresh" ? LifecycleHarness.otherPhoto : LifecycleHarness.photo)
        }
        // Distinct bytes per upload, so derivatives are not shared between them.
        try await h.store.delete("uploads/ordered.jpg")
        try await h.put("uploads/ordered.jpg", LifecycleHarness.markedPhoto)
        try await h.store.delete("uploads/order-expired.jpg")
        try await h.put("uploads/order-expired.jpg", try Data(contentsOf: LifecycleHarness.fixtures.appendingPathComponent("exif/Portrait_3.jpg")))
        for name in ["old-draft", "fresh", "ordered", "order-expired"] {
            _ = try await h.run("derive", payload: #"{"source":"uploads/\#(name).jpg"}"#)
        }
        for name in ["ordered", "order-expired"] {
            _ = try await h.run("render", payload: #"{"source":"uploads/\#(name).jpg","policy":"sticker-small"}"#)
        }
        try await h.redis.call(["HSET", h.keys.upload("uploads/order-expired.jpg"), "ordered_at", String(UploadLedger.nowMs() - 400 * 86_400_000)])
        for name in ["old-draft", "ordered", "order-expired"] { try age(h, "uploads/\(name).jpg", days: 45) }
        let before = try await h.keys(under: "")

        let dry = try await h.run("sweep", payload: #"{"dryRun":true}"#)
        #expect(dry["expired"] as? Int == 2)
        #expect(dry["keptForOrders"] as? Int == 1)
        let candidates = (dry["candidates"] as? [[String: Any]] ?? []).compactMap { $0["key"] as? String }.sorted()
        #expect(candidates == ["uploads/old-draft.jpg", "uploads/order-expired.jpg"])
        #expect(try await h.keys(under: "") == before, "a dry run deletes nothing")

        let result = try await h.run("sweep", id: "sweep-1", payload: "{}")
        let deleted = try #require(result["deleted"] as? [String: Any])
        #expect(deleted["uploads"] as? Int == 2)
        #expect(deleted["originals"] as? Int == 2)
        #expect(deleted["masters"] as? Int == 1)
        #expect((deleted["derivatives"] as? Int ?? 0) >= 6)
        #expect((deleted["bytes"] as? Int ?? 0) > 0)
        #expect((result["pages"] as? Int ?? 0) >= 2, "listed page by page")
        let left = Set(try await h.keys(under: ""))
        #expect(left.contains("uploads/fresh.jpg") && left.contains("uploads/ordered.jpg"))
        #expect(!left.contains("uploads/old-draft.jpg") && !left.contains("uploads/order-expired.jpg"))
        #expect(try await h.keys(under: "masters/").count == 1, "the kept order's master stays")
        let oldSHA = try #require(try await h.lifecycle.ledger.record(upload: "uploads/fresh.jpg")["sha256"])
        #expect(left.contains { $0.hasPrefix("derived/\(oldSHA)/") })

        // Twice is harmless: nothing more to delete, nothing counted twice.
        let again = try await h.run("sweep", id: "sweep-2", payload: "{}")
        #expect(again["expired"] as? Int == 0)
        #expect(try await h.keys(under: "").count == left.count)
    }

    @Test func twoSweepsAtOnceDeleteAndCountEachUploadOnce() async throws {
        let h = try LifecycleHarness(configure: { $0.retention.pageSize = 5 })
        let count = 40
        for i in 0..<count {
            try await h.put("uploads/bulk-\(i).jpg", Data("draft \(i)".utf8))
            try age(h, "uploads/bulk-\(i).jpg", days: 31)
        }
        async let a = h.run("sweep", id: "sweep-a", payload: "{}")
        async let b = h.run("sweep", id: "sweep-b", payload: "{}")
        let (ra, rb) = try await (a, b)
        let da = (ra["deleted"] as? [String: Any])?["uploads"] as? Int ?? 0
        let db = (rb["deleted"] as? [String: Any])?["uploads"] as? Int ?? 0
        #expect(da + db == count, "each upload counted by exactly one sweep (\(da) + \(db))")
        let skipped = (ra["skippedClaimed"] as? Int ?? 0) + (rb["skippedClaimed"] as? Int ?? 0)
        #expect(da + db + skipped >= count)
        #expect(try await h.keys(under: "uploads/").isEmpty)
    }

    /// The S3 store of scripts/services/s3.sh (moto) or ministack.sh.
    func storage(_ prefix: String) throws -> StorageConfiguration {
        StorageConfiguration(backend: .s3, s3: S3Configuration(
            endpoint: try LifecycleHarness.env("\(prefix)_ENDPOINT"), region: "us-east-1", bucket: try LifecycleHarness.env("\(prefix)_BUCKET"),
            addressingStyle: .path, accessKeyID: try LifecycleHarness.env("\(prefix)_ACCESS_KEY"), secretAccessKey: try LifecycleHarness.env("\(prefix)_SECRET_KEY")))
    }

    @Test func sweepPagesAndBatchesAgainstS3() async throws {
        // moto 5.2 gives false 403s for a signed list prefix holding '/': a slash-free prefix.
        let prefix = "sweep\(UUID().uuidString.prefix(8).lowercased())-"
        let s3 = try storage("PRESSROOM_TEST_S3")
        let h = try LifecycleHarness(configure: { c in
            c.storage = s3
            c.imaging.sourcePrefixes = [prefix]
            // S3 ages cannot be set: real ones, long enough that a loaded
            // machine's slow sweep never sees the fresh upload expire.
            c.retention.drafts = DurationText(.seconds(12))
            c.retention.pageSize = 7
            // Listing derived/<sha256>/ would need a '/' in the prefix (see ministack test below).
            c.retention.findUnrecordedDerivatives = false
        })
        for i in 0..<30 { try await h.put("\(prefix)\(String(format: "%03d", i)).jpg", Data("draft \(i)".utf8)) }
        try await Task.sleep(for: .milliseconds(13_100))
        try await h.put("\(prefix)new.jpg", Data("fresh".utf8))
        let result = try await h.run("sweep", payload: "{}")
        #expect(result["scanned"] as? Int == 31)
        #expect((result["pages"] as? Int ?? 0) >= 5)
        #expect((result["deleted"] as? [String: Any])?["originals"] as? Int == 30)
        #expect(try await h.keys(under: prefix) == ["\(prefix)new.jpg"])
    }

    /// Uploads derived before records existed: their derivatives are found
    /// by content prefix (ministack, which signs '/' in list prefixes right).
    @Test func unrecordedDerivativesAreFoundByContentAgainstS3() async throws {
        let prefix = "legacy-\(UUID().uuidString.prefix(8).lowercased())/"
        let s3 = try storage("PRESSROOM_TEST_MINISTACK")
        let h = try LifecycleHarness(configure: { c in
            c.storage = s3
            c.imaging.sourcePrefixes = [prefix]
            c.retention.drafts = DurationText(.seconds(1))
        })
        let photo = LifecycleHarness.photo
        let sha = PressroomImagingSHA.hex(photo)
        try await h.put("\(prefix)old.jpg", photo)
        try await h.put("derived/\(sha)/preview-legacy.webp", Data("legacy preview".utf8))
        try await h.put("masters/\(sha)/print-legacy.jpg", Data("legacy master".utf8))
        try await Task.sleep(for: .milliseconds(1100))
        let result = try await h.run("sweep", payload: "{}")
        let deleted = try #require(result["deleted"] as? [String: Any])
        #expect(deleted["originals"] as? Int == 1)
        #expect(deleted["derivatives"] as? Int == 1)
        #expect(deleted["masters"] as? Int == 1)
        #expect(try await h.store.head("derived/\(sha)/preview-legacy.webp") == nil)
    }
}

import Crypto

enum PressroomImagingSHA {
    static func hex(_ data: Data) -> String { SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined() }
}
