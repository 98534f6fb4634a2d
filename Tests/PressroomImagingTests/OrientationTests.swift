import Foundation
@testable import PressroomImaging
import Testing

/// Every EXIF orientation must come out as the same upright picture.
@Suite struct OrientationTests {
    /// Upright 8-bit sRGB pixels at a fixed small size.
    static func uprightPixels(_ name: String, width: Int, height: Int) throws -> [UInt8] {
        let imaging = try Fixtures.imaging()
        let image = try imaging.decodeRGB(try Fixtures.data(name), width: 64, height: 64).resized(width: width, height: height)
        return try image.pixelBytes()
    }

    static func meanDifference(_ a: [UInt8], _ b: [UInt8]) -> Double {
        precondition(a.count == b.count)
        return Double(zip(a, b).reduce(0) { $0 + abs(Int($1.0) - Int($1.1)) }) / Double(a.count)
    }

    @Test(arguments: ["Landscape", "Portrait"], 0...8)
    func orientationProducesUprightPixels(kind: String, orientation: Int) async throws {
        let (width, height) = kind == "Landscape" ? (48, 32) : (32, 48)
        let probe = try await Fixtures.imaging().probe(try Fixtures.data("exif/\(kind)_\(orientation).jpg"))
        #expect(probe.uprightWidth * height == probe.uprightHeight * width, "upright aspect of \(kind)_\(orientation)")
        let reference = try Self.uprightPixels("exif/\(kind)_1.jpg", width: width, height: height)
        let pixels = try Self.uprightPixels("exif/\(kind)_\(orientation).jpg", width: width, height: height)
        let difference = Self.meanDifference(reference, pixels)
        #expect(difference < 6, "\(kind)_\(orientation) differs from upright by \(difference)")
    }

    /// The comparison above is able to fail: the same picture turned 180° is far from upright.
    @Test func rotatedPictureIsDetectedAsDifferent() throws {
        let imaging = try Fixtures.imaging()
        let upright = try imaging.decodeRGB(try Fixtures.data("exif/Landscape_1.jpg"), width: 64, height: 64).materialized()
        let reference = try upright.resized(width: 48, height: 32).pixelBytes()
        let turned = try upright.rotated(.half).resized(width: 48, height: 32).pixelBytes()
        #expect(Self.meanDifference(reference, turned) > 20)
    }
}
