import Foundation
@testable import PressroomImaging
import Testing

/// The one decode a derive makes: JPEG shrink-on-load to the largest derivative, untagged pixels
/// kept as sRGB, smaller images from the analysis image, the watermark blended where the text is.
@Suite struct DeriveDecodeTests {
    /// A 3600×2400 JPEG (the 450×300 fixture upscaled): big enough to shrink on load for 1600 px.
    static func largeJPEG() throws -> Data {
        let imaging = try Fixtures.imaging()
        let small = try imaging.decodeRGB(try Fixtures.data("exif/Landscape_1.jpg"), width: 450, height: 300).materialized()
        return try small.resized(width: 3600, height: 2400).encoded(.jpeg(quality: 92, chromaSubsampling: false))
    }

    @Test func jpegShrinkIsTheLargestScaleStillCoveringTheBox() {
        #expect(Imaging.jpegShrink(width: 4140, height: 2760, orientation: 1, boxWidth: 1600, boxHeight: 1600) == 2)
        #expect(Imaging.jpegShrink(width: 4140, height: 2760, orientation: 1, boxWidth: 1024, boxHeight: 1024) == 4)
        #expect(Imaging.jpegShrink(width: 13000, height: 9000, orientation: 1, boxWidth: 1600, boxHeight: 1600) == 8)
        #expect(Imaging.jpegShrink(width: 3000, height: 2000, orientation: 1, boxWidth: 1600, boxHeight: 1600) == 1)
        #expect(Imaging.jpegShrink(width: 450, height: 300, orientation: 1, boxWidth: 1600, boxHeight: 1600) == 1)
        // Stored 4000×1000, shown 1000×4000 (EXIF 6): the upright picture is fitted, factor 2 (not 8).
        #expect(Imaging.jpegShrink(width: 4000, height: 1000, orientation: 6, boxWidth: 500, boxHeight: 2000) == 2)
        #expect(Imaging.jpegShrink(width: 4000, height: 1000, orientation: 1, boxWidth: 500, boxHeight: 2000) == 8)
    }

    /// Decoded at half scale, the picture is the full decode's: same size, pixels within JPEG noise.
    @Test func shrunkDecodeMatchesTheFullDecode() throws {
        let imaging = try Fixtures.imaging()
        let bytes = EncodedInput(try Self.largeJPEG())
        let shrunk = try imaging.decodeRGB(bytes, width: 1600, height: 1600).materialized()
        let full = try VipsImage.open(bytes, sequential: false).fitting(width: 1600, height: 1600).materialized()
        #expect(shrunk.width == 1600 && shrunk.height == 1067)
        #expect(full.width == shrunk.width && full.height == shrunk.height)
        let difference = try shrunk.meanAbsoluteDifference(full)
        #expect(difference < 1.5, "mean difference \(difference) from the full decode")
    }

    /// Untagged RGB or grey is sRGB: the preview keeps its values and carries the sRGB profile.
    /// (Exported to sRGB without an input profile, libvips 8.14 made white 250, 253, 253.)
    @Test(arguments: [3, 1])
    func untaggedPixelsKeepTheirValues(bands: Int) async throws {
        let imaging = try Fixtures.imaging()
        let (width, height) = (64, 48)
        let colour: [UInt8] = bands == 3 ? [115, 164, 223] : [128]
        var pixels: [UInt8] = []
        for y in 0..<height {
            for _ in 0..<width {
                pixels += y < height / 2 ? [UInt8](repeating: 255, count: bands) : colour
            }
        }
        let source = try VipsImage.fromPixels(pixels, width: width, height: height, bands: bands).encoded(.png(compression: 1))
        let derived = try await imaging.derive(source: source, catalog: try Fixtures.catalog())
        let preview = try VipsImage.open(try #require(derived.output(policy: "preview")).data, sequential: false)
        #expect(preview.iccColorSpaceSignature == "RGB ")
        let out = try preview.pixelBytes()
        func pixel(_ x: Int, _ y: Int) -> [Int] {
            let offset = (y * preview.width + x) * preview.bands
            return out[offset..<offset + 3].map { Int($0) }
        }
        let expected = (bands == 3 ? colour : [colour[0], colour[0], colour[0]]).map { Int($0) }
        // Corners: away from the centred watermark.
        for (x, y) in [(2, 2), (width - 3, 2)] {
            #expect(pixel(x, y).allSatisfy { $0 >= 253 }, "white became \(pixel(x, y))")
        }
        for (x, y) in [(2, height - 3), (width - 3, height - 3)] {
            #expect(zip(pixel(x, y), expected).allSatisfy { abs($0 - $1) <= 2 }, "\(expected) became \(pixel(x, y))")
        }
    }

    /// The thumbnail is resampled from the analysis image, the preview from the base: either way
    /// `policyOutput` makes the bytes `derive` stored.
    @Test func policyOutputMakesTheDerivedBytes() async throws {
        let imaging = try Fixtures.imaging()
        let catalog = try Fixtures.catalog()
        let source = try Self.largeJPEG()
        let derived = try await imaging.derive(source: source, catalog: catalog)
        for name in ["thumbnail", "preview"] {
            let made = try await imaging.policyOutput(source: source, policy: try catalog.policy(named: name), catalog: catalog, crop: nil)
            #expect(made.output?.data == derived.output(policy: name)?.data, "\(name)")
        }
    }

    /// The text is blended only in its box, placed as `vips_gravity` places it; every other
    /// pixel is the plain image's.
    @Test(arguments: [
        ProductPolicy.Watermark.Placement.centre, .north, .south, .east, .west, .northeast, .northwest, .southeast, .southwest,
    ])
    func watermarkChangesOnlyTheTextBox(placement: ProductPolicy.Watermark.Placement) throws {
        let (width, height) = (400, 300)
        let plain = try VipsImage.fromPixels([UInt8](repeating: 60, count: width * height * 3), width: width, height: height, bands: 3)
        let marked = try plain.watermarked(text: "PROOF", font: "DejaVu Sans Bold", widthFraction: 0.5, opacity: 0.5, placement: placement.vipsDirection)
        let before = try plain.pixelBytes()
        let after = try marked.pixelBytes()
        #expect(marked.width == width && marked.height == height && after.count == before.count)
        var (minX, minY, maxX, maxY) = (Int.max, Int.max, -1, -1)
        for y in 0..<height {
            for x in 0..<width where before[(y * width + x) * 3 ..< (y * width + x) * 3 + 3] != after[(y * width + x) * 3 ..< (y * width + x) * 3 + 3] {
                (minX, minY, maxX, maxY) = (min(minX, x), min(minY, y), max(maxX, x), max(maxY, y))
            }
        }
        try #require(maxX >= 0, "the watermark changed nothing")
        #expect(maxX - minX < width / 2, "wider than the text box (half the width)")
        let (centreX, centreY) = (Double(minX + maxX) / 2, Double(minY + maxY) / 2)
        let column = centreX < Double(width) / 3 ? "west" : centreX > Double(width) * 2 / 3 ? "east" : ""
        let row = centreY < Double(height) / 3 ? "north" : centreY > Double(height) * 2 / 3 ? "south" : ""
        let found = row + column
        #expect(found == (placement == .centre ? "" : placement.rawValue), "text centred at \(centreX), \(centreY)")
    }

    /// A text box taller than the image is cut to it, as the full-frame blend did.
    @Test func watermarkTallerThanTheImageIsClipped() throws {
        let plain = try VipsImage.fromPixels([UInt8](repeating: 60, count: 400 * 8 * 3), width: 400, height: 8, bands: 3)
        let marked = try plain.watermarked(text: "PROOF", font: "DejaVu Sans Bold", widthFraction: 1, opacity: 0.5, placement: ProductPolicy.Watermark.Placement.centre.vipsDirection)
        #expect(marked.width == 400 && marked.height == 8)
        #expect(try marked.pixelBytes() != plain.pixelBytes())
    }
}
