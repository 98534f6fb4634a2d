import Foundation
@testable import PressroomImaging
import Testing

/// Inputs of every kind a phone or browser sends, and the numbers in the quality report.
@Suite struct ReportAndInputTests {
    @Test(arguments: [
        "cmyk-profile.jpg", "Channel_digital_image_CMYK_color_no_profile.jpg", "grey-alpha.png", "rgb16.png",
        "4.webp", "animated-loop-3.gif", "p3.png",
    ])
    func everyInputKindDerivesAnSRGBPreview(name: String) async throws {
        let imaging = try Fixtures.imaging()
        let catalog = try Fixtures.catalog()
        let source = try Fixtures.data(name)
        let result = try await imaging.derive(source: source, catalog: catalog)
        let preview = try #require(result.output(policy: "preview"))
        #expect(preview.contentType == "image/jpeg")
        let image = try VipsImage.open(preview.data, sequential: false)
        #expect(image.bands == 3)
        #expect(image.iccColorSpaceSignature == "RGB ")
        #expect(max(image.width, image.height) <= 1600)
        // A master renders too (greeting card: fit on white).
        let card = try await imaging.render(source: source, policy: try catalog.policy(named: "greeting-card"), crop: nil, preview: preview.data)
        #expect(card.verification.previewDifference != nil)
        try FileManager.default.removeItem(at: card.master.file)
    }

    @Test func animatedGIFUsesFirstFrameAndReportsPages() async throws {
        let probe = try await Fixtures.imaging().probe(try Fixtures.data("animated-loop-3.gif"))
        #expect(probe.format == .gif)
        #expect(probe.pageCount > 1)
        #expect(probe.width == 370 && probe.height == 285)
    }

    @Test func cmykInputsAreProbedAsCMYK() async throws {
        let imaging = try Fixtures.imaging()
        let withProfile = try await imaging.probe(try Fixtures.data("cmyk-profile.jpg"))
        let without = try await imaging.probe(try Fixtures.data("Channel_digital_image_CMYK_color_no_profile.jpg"))
        #expect(withProfile.embeddedProfile == "cmyk" && withProfile.bands == 4)
        #expect(without.embeddedProfile == nil && without.bands == 4)
    }

    /// Landscape_1 is 450×300: 75 DPI on a 6×4 in print, 60 DPI on 7×5 after cutting 6.7 %.
    @Test func reportComputesDPIVerdictAndCropLoss() async throws {
        let imaging = try Fixtures.imaging()
        let catalog = try Fixtures.catalog()
        let report = try await imaging.inspect(source: try Fixtures.data("exif/Landscape_1.jpg"), catalog: catalog)
        let four = try #require(report.products.first { $0.policy == "print-4x6" })
        #expect(four.effectiveDPI == 75)
        #expect(four.verdict == .reject)
        #expect(four.cropLossPercent == 0)
        #expect(four.printWidthInches == 6 && four.printHeightInches == 4)
        let five = try #require(report.products.first { $0.policy == "print-5x7" })
        #expect(five.effectiveDPI == 60)
        #expect(five.cropLossPercent == 6.7)
        let book = try #require(report.products.first { $0.policy == "photobook-page" })
        #expect(book.gamutWarningPercent != nil)
        #expect(report.products.filter { $0.policy != "photobook-page" }.allSatisfy { $0.gamutWarningPercent == nil })
        #expect(report.products.count == catalog.products.count)
        #expect(!report.suggestedProducts.contains("print-4x6"))
        let json = try JSONDecoder().decode(QualityReport.self, from: try report.jsonData())
        #expect(json == report)
    }

    /// An upscaled photo is big enough for small prints but not for the poster; and blurring lowers sharpness.
    @Test func largeSourceIsSuggestedForSmallPrints() async throws {
        let imaging = try Fixtures.imaging()
        let catalog = try Fixtures.catalog()
        let small = try imaging.decodeRGB(try Fixtures.data("exif/Landscape_1.jpg"), width: 450, height: 300).materialized()
        let large = try small.resized(width: 2700, height: 1800).encoded(.jpeg(quality: 92, chromaSubsampling: false))
        let report = try await imaging.inspect(source: large, catalog: catalog)
        let four = try #require(report.products.first { $0.policy == "print-4x6" })
        #expect(four.effectiveDPI == 450)
        let poster = try #require(report.products.first { $0.policy == "poster-a2" })
        #expect(poster.verdict == .warn || poster.verdict == .reject)
        let sharp = try await imaging.inspect(source: try Fixtures.data("exif/Landscape_1.jpg"), catalog: catalog)
        let blurred = try small.blurred(sigma: 4).castToUChar().encoded(.jpeg(quality: 92, chromaSubsampling: false))
        let soft = try await imaging.inspect(source: blurred, catalog: catalog)
        #expect(soft.sharpness < sharp.sharpness / 4, "blurred \(soft.sharpness) vs sharp \(sharp.sharpness)")
        #expect(soft.blurry)
    }

    @Test func contentSniffingIgnoresNames() {
        #expect(ImageFormat.sniff(Data([0xFF, 0xD8, 0xFF, 0xE0])) == .jpeg)
        #expect(ImageFormat.sniff(Data("GIF89a".utf8)) == .gif)
        #expect(ImageFormat.sniff(Data("<svg".utf8)) == nil)
        #expect(ImageFormat.sniff(Data("%PDF-1.7".utf8)) == nil)
    }
}
