import Foundation
import Logging
@testable import PressroomImaging
import Testing

/// `verify` re-opens the master and catches a wrong orientation, a blank page or a wrong profile.
@Suite struct VerificationTests {
    static func renderWithPreview(_ name: String, policy: String) async throws -> (RenderResult, Data, ResolvedPolicy) {
        let imaging = try Fixtures.imaging()
        let catalog = try Fixtures.catalog()
        let source = try Fixtures.data(name)
        let preview = try #require(try await imaging.derive(source: source, catalog: catalog).output(policy: "preview")).data
        let resolved = try catalog.policy(named: policy)
        let result = try await imaging.render(source: source, policy: resolved, crop: nil, preview: preview)
        return (result, preview, resolved)
    }

    @Test(arguments: ["print-4x6", "greeting-card", "mug-11oz", "photobook-page", "canvas-16x20"])
    func renderedMasterPassesVerification(policy: String) async throws {
        let (result, _, resolved) = try await Self.renderWithPreview("exif/Landscape_8.jpg", policy: policy)
        let difference = try #require(result.verification.previewDifference)
        #expect(difference < Imaging.maxPreviewDifference / 2, "master vs preview difference \(difference)")
        #expect(result.verification.colorSpace == (resolved.profile.isCMYK ? "cmyk" : "rgb"))
        // The digest taken while encoding is the file's (TIFF masters are patched after writing, JPEG ones are not).
        let bytes = try Fixtures.take(result.master)
        #expect(result.master.sha256 == Imaging.sha256(bytes))
        #expect(result.master.byteCount == bytes.count)
    }

    /// A master that fails verification leaves no spool file behind.
    @Test func failedVerificationRemovesTheSpoolFile() async throws {
        let spool = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: spool) }
        let imaging = try Imaging(configuration: ImagingConfiguration(blockingThreads: 1, spoolDirectory: spool), logger: Logger(label: "test.spool"))
        let catalog = try Fixtures.catalog()
        // The photo's preview turned upside down: the master cannot match it.
        let source = try Fixtures.data("exif/Landscape_3.jpg")
        let preview = try #require(try await imaging.derive(source: source, catalog: catalog).output(policy: "preview")).data
        let turned = try VipsImage.open(preview, sequential: false).rotated(.half).encoded(.jpeg(quality: 90, chromaSubsampling: false))
        for policy in ["print-4x6", "photobook-page"] {
            let error = await imagingError {
                _ = try await imaging.render(source: source, policy: try catalog.policy(named: policy), crop: nil, preview: turned)
            }
            #expect(error?.code == .verificationFailed, "\(policy): \(String(describing: error))")
            #expect(try FileManager.default.contentsOfDirectory(atPath: spool.path).isEmpty, "\(policy): spool file left behind")
        }
    }

    /// What a killed render left behind goes at the next start; a fresh file and others' files stay.
    @Test func staleSpoolFilesAreRemoved() throws {
        let spool = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: spool) }
        func touch(_ name: String, age: TimeInterval) throws {
            let url = spool.appendingPathComponent(name)
            try Data("x".utf8).write(to: url)
            try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-age)], ofItemAtPath: url.path)
        }
        try touch("pressroom-master-old.tif", age: 7200)
        try touch("pressroom-master-live.tif", age: 10)
        try touch("someone-elses.tif", age: 7200)
        // A render job's spooled source goes the same way.
        try touch("\(Imaging.sourceSpoolPrefix)old", age: 7200)
        try touch("\(Imaging.sourceSpoolPrefix)live", age: 10)
        #expect(Imaging.removeStaleSpoolFiles(in: spool, olderThan: .seconds(3600)) == 2)
        #expect(try FileManager.default.contentsOfDirectory(atPath: spool.path).sorted()
            == ["pressroom-master-live.tif", "\(Imaging.sourceSpoolPrefix)live", "someone-elses.tif"])
    }

    @Test func upsideDownMasterFailsVerification() async throws {
        let imaging = try Fixtures.imaging()
        let (result, preview, resolved) = try await Self.renderWithPreview("exif/Landscape_3.jpg", policy: "print-4x6")
        // The same master turned 180°, as a pipeline that ignored EXIF orientation 3 would make it.
        defer { try? FileManager.default.removeItem(at: result.master.file) }
        let wrong = try Fixtures.file(try VipsImage.open(try Data(contentsOf: result.master.file), sequential: false).rotated(.half)
            .encoded(.jpeg(quality: 95, chromaSubsampling: false)), extension: "jpg")
        defer { try? FileManager.default.removeItem(at: wrong) }
        let error = await imagingError { _ = try await imaging.verify(master: wrong, policy: resolved, crop: nil, preview: preview) }
        #expect(error?.code == .verificationFailed)
        #expect(error?.isPermanent == true)
        #expect(error?.message.contains("orientation") == true, "\(String(describing: error))")
        // The correct master passes the same public check.
        let check = try await imaging.verify(master: result.master.file, policy: resolved, crop: nil, preview: preview)
        #expect(check.width == result.verification.width)
    }

    @Test func wrongCropFailsVerification() async throws {
        let imaging = try Fixtures.imaging()
        let (result, preview, resolved) = try await Self.renderWithPreview("exif/Portrait_1.jpg", policy: "print-4x6")
        // Claim the master shows the top-left quarter-ish of the photo: it does not.
        let crop = CropRect(x: 0, y: 0, width: 0.6, height: 0.6)
        defer { try? FileManager.default.removeItem(at: result.master.file) }
        let error = await imagingError { _ = try await imaging.verify(master: result.master.file, policy: resolved, crop: crop, preview: preview) }
        #expect(error?.code == .verificationFailed)
    }

    @Test func blankMasterFailsVerification() async throws {
        let imaging = try Fixtures.imaging()
        let (result, preview, resolved) = try await Self.renderWithPreview("exif/Landscape_1.jpg", policy: "print-4x6")
        let master = try VipsImage.open(try Fixtures.take(result.master), sequential: false)
        let grey = [UInt8](repeating: 128, count: master.width * master.height * 3)
        let blank = try Fixtures.file(try imaging.finish(try VipsImage.fromPixels(grey, width: master.width, height: master.height, bands: 3)
            .convertedToSRGB(), policy: resolved)
            .encoded(.jpeg(quality: 90, chromaSubsampling: false)), extension: "jpg")
        defer { try? FileManager.default.removeItem(at: blank) }
        let error = await imagingError { _ = try await imaging.verify(master: blank, policy: resolved, crop: nil, preview: preview) }
        #expect(error?.code == .verificationFailed)
        #expect(error?.message.contains("blank") == true, "\(String(describing: error))")
    }

    @Test func masterWithWrongProfileFailsVerification() async throws {
        let imaging = try Fixtures.imaging()
        let catalog = try Fixtures.catalog()
        let source = try Fixtures.data("exif/Landscape_1.jpg")
        let preview = try #require(try await imaging.derive(source: source, catalog: catalog).output(policy: "preview")).data
        // An sRGB master checked against the CMYK photobook policy.
        let rgbPolicy = try catalog.policy(named: "photobook-page")
        let rgbMaster = try await imaging.render(source: source, policy: try catalog.policy(named: "print-4x6"), crop: nil, preview: nil)
        defer { try? FileManager.default.removeItem(at: rgbMaster.master.file) }
        let error = await imagingError { _ = try await imaging.verify(master: rgbMaster.master.file, policy: rgbPolicy, crop: nil, preview: preview) }
        #expect(error?.code == .verificationFailed)
    }
}
