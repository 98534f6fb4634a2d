import Foundation
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
    }

    @Test func upsideDownMasterFailsVerification() async throws {
        let imaging = try Fixtures.imaging()
        let (result, preview, resolved) = try await Self.renderWithPreview("exif/Landscape_3.jpg", policy: "print-4x6")
        // The same master turned 180°, as a pipeline that ignored EXIF orientation 3 would make it.
        let wrong = try VipsImage.open(result.master.data, sequential: false).rotated(.half).encoded(.jpeg(quality: 95, chromaSubsampling: false))
        let error = await imagingError { _ = try await imaging.verify(master: wrong, policy: resolved, crop: nil, preview: preview) }
        #expect(error?.code == .verificationFailed)
        #expect(error?.isPermanent == true)
        #expect(error?.message.contains("orientation") == true, "\(String(describing: error))")
        // The correct master passes the same public check.
        let check = try await imaging.verify(master: result.master.data, policy: resolved, crop: nil, preview: preview)
        #expect(check.width == result.verification.width)
    }

    @Test func wrongCropFailsVerification() async throws {
        let imaging = try Fixtures.imaging()
        let (result, preview, resolved) = try await Self.renderWithPreview("exif/Portrait_1.jpg", policy: "print-4x6")
        // Claim the master shows the top-left quarter-ish of the photo: it does not.
        let crop = CropRect(x: 0, y: 0, width: 0.6, height: 0.6)
        let error = await imagingError { _ = try await imaging.verify(master: result.master.data, policy: resolved, crop: crop, preview: preview) }
        #expect(error?.code == .verificationFailed)
    }

    @Test func blankMasterFailsVerification() async throws {
        let imaging = try Fixtures.imaging()
        let (result, preview, resolved) = try await Self.renderWithPreview("exif/Landscape_1.jpg", policy: "print-4x6")
        let master = try VipsImage.open(result.master.data, sequential: false)
        let grey = [UInt8](repeating: 128, count: master.width * master.height * 3)
        let blank = try imaging.finish(try VipsImage.fromPixels(grey, width: master.width, height: master.height, bands: 3)
            .convertedToSRGB(), policy: resolved)
            .encoded(.jpeg(quality: 90, chromaSubsampling: false))
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
        let error = await imagingError { _ = try await imaging.verify(master: rgbMaster.master.data, policy: rgbPolicy, crop: nil, preview: preview) }
        #expect(error?.code == .verificationFailed)
    }
}
