import Foundation
import Logging
@testable import PressroomImaging
import Testing

/// Same input + same policies → same keys and bytes; a policy change → new keys.
@Suite struct DeterminismTests {
    @Test func deriveTwiceGivesIdenticalKeysAndBytes() async throws {
        let imaging = try Fixtures.imaging()
        let catalog = try Fixtures.catalog()
        let source = try Fixtures.data("exif/Landscape_6.jpg")
        let first = try await imaging.derive(source: source, catalog: catalog)
        let second = try await imaging.derive(source: source, catalog: catalog)
        #expect(first.outputs.map(\.key) == second.outputs.map(\.key))
        #expect(first.outputs.map(\.data) == second.outputs.map(\.data))
        let sha = first.sourceSHA256
        let thumbnail = try #require(first.output(policy: "thumbnail"))
        let digest = try catalog.policy(named: "thumbnail").shortDigest
        #expect(thumbnail.key == "derived/\(sha)/thumbnail-\(digest)-v\(Imaging.pipelineVersion).jpg")
        #expect(first.output(policy: "preview")?.key == Imaging.derivedKey(sourceSHA256: sha, policy: try catalog.policy(named: "preview")))
        #expect(sha == Imaging.sha256(source))
        #expect(first.outputs.contains { $0.contentType == "application/json" && $0.key.hasPrefix("derived/\(sha)/report-") })
    }

    @Test func renderTwiceGivesIdenticalMaster() async throws {
        let imaging = try Fixtures.imaging()
        let policy = try Fixtures.catalog().policy(named: "poster-a2")
        let source = try Fixtures.data("exif/Portrait_3.jpg")
        let crop = CropRect(x: 0.05, y: 0.1, width: 0.9, height: 0.8)
        let first = try await imaging.render(source: source, policy: policy, crop: crop, preview: nil)
        let second = try await imaging.render(source: source, policy: policy, crop: crop, preview: nil)
        #expect(first.master.key == second.master.key)
        #expect(try Fixtures.take(first.master) == Fixtures.take(second.master))
        #expect(first.master.sha256 == second.master.sha256)
        #expect(first.master.key.hasPrefix("masters/"))
        let other = try await imaging.render(source: source, policy: policy, crop: nil, preview: nil)
        try FileManager.default.removeItem(at: other.master.file)
        #expect(other.master.key != first.master.key, "a different crop is a different master")
    }

    /// A master's threads are capped by its row width (`masterRowBudget`) without changing a
    /// byte: here the photobook page (CMYK LZW TIFF, mirrored bleed) on one thread and on all.
    @Test func aMasterRenderedOnOneThreadHasTheSameBytesAsOnAll() async throws {
        let policy = try Fixtures.catalog().policy(named: "photobook-page")
        let source = try Fixtures.data("exif/Landscape_3.jpg")
        let oneThread = try Imaging(configuration: ImagingConfiguration(blockingThreads: 1, masterRowBudget: 1), logger: Logger(label: "test.imaging"))
        let allThreads = try Imaging(configuration: ImagingConfiguration(blockingThreads: 1, masterRowBudget: 0), logger: Logger(label: "test.imaging"))
        #expect(oneThread.masterThreads(rowBytes: 2550 * 4) == 1)
        #expect(allThreads.masterThreads(rowBytes: 2550 * 4) == allThreads.masterThreads(rowBytes: 1), "no budget: libvips' concurrency")
        let capped = try await oneThread.render(source: source, policy: policy, crop: nil, preview: nil)
        let uncapped = try await allThreads.render(source: source, policy: policy, crop: nil, preview: nil)
        #expect(capped.master.sha256 == uncapped.master.sha256)
        #expect(try Fixtures.take(capped.master) == Fixtures.take(uncapped.master))
    }

    /// The default budget: a 20×30 in CMYK canvas (9070 px, 36 KB a row) gets one thread; a 4×6
    /// print (1872 px RGB) as many as libvips has, up to five.
    @Test func theDefaultBudgetGivesWideMastersOneThread() throws {
        let imaging = try Fixtures.imaging()
        let all = try Imaging(configuration: ImagingConfiguration(masterRowBudget: 0), logger: Logger(label: "test.imaging")).masterThreads(rowBytes: 1)
        #expect(imaging.masterThreads(rowBytes: 9070 * 4) == 1)
        #expect(imaging.masterThreads(rowBytes: 1872 * 3) == min(all, 5))
    }

    /// Editing a policy (here: JPEG quality) changes its digest and so every key it produces,
    /// while the other policies keep theirs.
    @Test func policyChangeProducesNewKeys() async throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let policies = directory.appendingPathComponent("policies")
        try FileManager.default.copyItem(at: Fixtures.policiesDirectory, to: policies)
        let original = try PolicyCatalog.load(directory: policies, profilesDirectory: Fixtures.profilesDirectory)
        let file = policies.appendingPathComponent("thumbnail.yaml")
        let text = try String(contentsOf: file, encoding: .utf8).replacingOccurrences(of: "quality: 80", with: "quality: 81")
        try text.write(to: file, atomically: true, encoding: .utf8)
        let changed = try PolicyCatalog.load(directory: policies, profilesDirectory: Fixtures.profilesDirectory)
        #expect(try original.policy(named: "thumbnail").digest != changed.policy(named: "thumbnail").digest)
        #expect(try original.policy(named: "preview").digest == changed.policy(named: "preview").digest)
        #expect(original.digest != changed.digest)

        let imaging = try Fixtures.imaging()
        let source = try Fixtures.data("exif/Landscape_1.jpg")
        let before = try await imaging.derive(source: source, catalog: original)
        let after = try await imaging.derive(source: source, catalog: changed)
        #expect(before.output(policy: "thumbnail")?.key != after.output(policy: "thumbnail")?.key)
        #expect(before.output(policy: "preview")?.key == after.output(policy: "preview")?.key)
    }

    /// Reformatting a policy file without changing its meaning keeps the digest (canonical encoding).
    @Test func digestIgnoresFormattingAndDefaults() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let yamlA = "name: tiny\nkind: thumbnail\nsize: { width: 10, height: 10, unit: px }\noutput: { format: jpeg }\n"
        let yamlB = "# comment\nkind: thumbnail\nname: tiny\nsize:\n  unit: px\n  height: 10\n  width: 10\noutput:\n  format: jpeg\n  quality: 90\n  profile: srgb\n"
        var digests: [String] = []
        for yaml in [yamlA, yamlB] {
            let folder = directory.appendingPathComponent(UUID().uuidString)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try yaml.write(to: folder.appendingPathComponent("tiny.yaml"), atomically: true, encoding: .utf8)
            digests.append(try PolicyCatalog.load(directory: folder, profilesDirectory: Fixtures.profilesDirectory).policy(named: "tiny").digest)
        }
        #expect(digests[0] == digests[1])
    }
}
