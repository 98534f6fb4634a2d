import Foundation
@testable import PressroomImaging
import Testing

/// Customer crops are honoured or rejected per policy; previews carry the watermark, thumbnails do not.
@Suite struct CropAndWatermarkTests {
    @Test func cropOutsideToleranceOrImageIsRejected() async throws {
        let imaging = try Fixtures.imaging()
        let policy = try Fixtures.catalog().policy(named: "print-4x6")
        let source = try Fixtures.data("exif/Landscape_1.jpg")
        for crop in [CropRect(x: 0, y: 0, width: 0.3, height: 1), CropRect(x: 0.8, y: 0, width: 0.5, height: 0.5), CropRect(x: 0, y: 0, width: 0, height: 1)] {
            let error = await imagingError { _ = try await imaging.render(source: source, policy: policy, crop: crop, preview: nil) }
            #expect(error?.code == .invalidCrop, "\(crop): \(String(describing: error))")
            #expect(error?.isPermanent == true)
        }
    }

    /// A customer crop of the right half renders the right half: compared with the preview's right half.
    @Test func customerCropSelectsThatRegion() async throws {
        let imaging = try Fixtures.imaging()
        let catalog = try Fixtures.catalog()
        let source = try Fixtures.data("exif/Landscape_1.jpg")
        let preview = try #require(try await imaging.derive(source: source, catalog: catalog).output(policy: "preview")).data
        let policy = try catalog.policy(named: "print-4x6")
        // A 2:3 strip on the right of a 3:2 image is portrait, so the 4×6 turns to 4 wide × 6 high.
        let crop = CropRect(x: 0.55, y: 0, width: 0.4444, height: 1)
        let result = try await imaging.render(source: source, policy: policy, crop: crop, preview: preview)
        #expect(result.verification.width < result.verification.height)
        #expect(result.crop.x >= 0.55)
        defer { try? FileManager.default.removeItem(at: result.master.file) }
        // The left half would not verify against this master.
        let error = await imagingError {
            _ = try await imaging.verify(master: result.master.file, policy: policy, crop: CropRect(x: 0, y: 0, width: 0.4444, height: 1), preview: preview)
        }
        #expect(error?.code == .verificationFailed)
    }

    @Test func previewIsWatermarkedAndThumbnailIsNot() async throws {
        let imaging = try Fixtures.imaging()
        let catalog = try Fixtures.catalog()
        let source = try Fixtures.data("exif/Landscape_1.jpg")
        let derived = try await imaging.derive(source: source, catalog: catalog)
        let plain = try imaging.decodeRGB(source, width: 1600, height: 1600).materialized()
        let preview = try VipsImage.open(try #require(derived.output(policy: "preview")).data, sequential: false)
        let thumbnail = try VipsImage.open(try #require(derived.output(policy: "thumbnail")).data, sequential: false)
        #expect(preview.width == plain.width && preview.height == plain.height)
        // Watermark text is white: the centre band of the preview is brighter than the plain decode's.
        let band = { (image: VipsImage) throws -> Double in
            try image.extractArea(left: image.width / 4, top: image.height * 2 / 5, width: image.width / 2, height: image.height / 5).average()
        }
        #expect(try band(preview) > band(plain) + 3, "watermark brightens the centre")
        let plainSmall = try plain.resized(width: thumbnail.width, height: thumbnail.height)
        #expect(try abs(band(thumbnail) - band(plainSmall)) < 3, "thumbnail has no watermark")
    }
}
