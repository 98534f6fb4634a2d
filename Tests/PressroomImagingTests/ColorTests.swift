import Foundation
import PressroomColor
@testable import PressroomImaging
import Testing

/// Colour management: embedded profiles honoured, CMYK masters carry the press profile and the right ink.
@Suite struct ColorTests {
    /// Lab of the first pixel of an image, read through a profile.
    static func lab(_ pixels: [UInt8], channels: Int, profile: ICCProfile) throws -> LabColor {
        try LabConverter(from: profile).convert(Array(pixels.prefix(channels)))[0]
    }

    /// A wide-gamut source converted to sRGB must look the same as the source did through its own profile.
    @Test(arguments: ["prophoto.png", "p3.png"])
    func wideGamutSourceKeepsItsColours(name: String) throws {
        let imaging = try Fixtures.imaging()
        let context = ColorContext()
        let data = try Fixtures.data(name)
        let raw = try VipsImage.open(data, sequential: false)
        let embedded = try #require(raw.iccProfile)
        let rawPixels = try raw.pixelBytes()
        let sourceLab = try Self.lab(rawPixels, channels: 3, profile: ICCProfile(data: embedded, context: context))
        let converted = try imaging.decodeRGB(data, width: 64, height: 64).pixelBytes()
        let sRGB = ICCProfile.sRGB(context: context)
        let outputLab = try Self.lab(converted, channels: 3, profile: sRGB)
        // What a pipeline that ignored the profile would show.
        let naiveLab = try Self.lab(rawPixels, channels: 3, profile: sRGB)
        let kept = sourceLab.deltaE2000(to: outputLab)
        let ignored = sourceLab.deltaE2000(to: naiveLab)
        if name == "prophoto.png" {
            // In sRGB's gamut: the conversion must be visually exact.
            #expect(kept < 1.5, "ΔE2000 \(kept) after conversion")
        } else {
            // P3 red lies outside sRGB: the conversion clips to sRGB red, the closest colour available.
            #expect(converted[0] == 255 && converted[1] < 10 && converted[2] < 10, "P3 red became \(converted.prefix(3))")
        }
        #expect(kept < ignored, "conversion ΔE \(kept) should beat ignoring the profile (\(ignored))")
    }

    /// A three-stripe sRGB picture (white, red, black) rendered as a CMYK photobook page.
    @Test func cmykMasterCarriesPressProfileAndRightInk() async throws {
        let imaging = try Fixtures.imaging()
        let catalog = try Fixtures.catalog()
        let policy = try catalog.policy(named: "photobook-page")
        let size = 300
        var pixels = [UInt8](repeating: 0, count: size * size * 3)
        for y in 0..<size {
            for x in 0..<size {
                let colour: [UInt8] = x < 100 ? [255, 255, 255] : (x < 200 ? [220, 20, 20] : [0, 0, 0])
                pixels.replaceSubrange((y * size + x) * 3 ..< (y * size + x) * 3 + 3, with: colour)
            }
        }
        let source = try VipsImage.fromPixels(pixels, width: size, height: size, bands: 3).encoded(.png(compression: 1))
        let result = try await imaging.render(source: source, policy: policy, crop: nil, preview: nil)
        #expect(result.master.contentType == "image/tiff")
        let master = try VipsImage.open(try Fixtures.take(result.master), sequential: false)
        let press = try Data(contentsOf: Fixtures.profilesDirectory.appendingPathComponent("xcmyk-2017.icc"))
        #expect(master.iccProfile == press, "the master embeds XCMYK 2017 unaltered")
        #expect(master.bands == 4)
        let expected = policy.policy.pixelSize.width + 2 * policy.policy.bleedPixels
        #expect(master.width == expected && master.height == expected)
        let ink = try master.pixelBytes()
        func sample(_ fraction: Double) -> [Double] {
            let x = Int(Double(master.width) * fraction)
            let offset = ((master.height / 2) * master.width + x) * 4
            return ink[offset..<offset + 4].map { Double($0) / 255 * 100 }
        }
        let white = sample(1.0 / 6), red = sample(0.5), black = sample(5.0 / 6)
        #expect(white.allSatisfy { $0 < 3 }, "white paper needs no ink: \(white)")
        #expect(red[1] > 70 && red[2] > 70 && red[0] < 20, "red is magenta + yellow: \(red)")
        #expect(black[3] > 60 && black.reduce(0, +) <= 330, "black has heavy K within total ink limit: \(black)")
    }

    @Test func malformedProfileIsRejected() throws {
        let context = ColorContext()
        #expect {
            _ = try ICCProfile(data: try Fixtures.data("invalid-illuminant.icc"), context: context)
        } throws: { error in
            (error as? ColorError)?.code == .badProfile && !((error as? ColorError)?.message.isEmpty ?? true)
        }
        #expect(throws: ColorError.self) {
            _ = try ICCProfile(data: Data("not a profile".utf8), context: context)
        }
    }

    @Test func pressProfileOpensAsCMYK() throws {
        let context = ColorContext()
        let profile = try ICCProfile(contentsOf: Fixtures.profilesDirectory.appendingPathComponent("xcmyk-2017.icc"), context: context)
        #expect(profile.colorSpace == .cmyk)
        #expect(profile.profileDescription.localizedCaseInsensitiveContains("xcmyk"))
    }

    /// Saturated RGB primaries are outside a press gamut; neutral greys are not.
    @Test func gamutCheckCountsOutOfGamutPixels() throws {
        let press = try Data(contentsOf: Fixtures.profilesDirectory.appendingPathComponent("xcmyk-2017.icc"))
        let checker = try GamutChecker(source: .sRGB, press: .data(press), intent: .perceptual)
        // Mid greys: the deepest sRGB blacks are darker than any press black, so they are excluded.
        let greys = (40..<240).flatMap { [UInt8($0), UInt8($0), UInt8($0)] }
        let vivid: [UInt8] = Array([[0, 255, 0], [0, 0, 255], [255, 0, 255], [0, 255, 255]].joined())
        #expect(checker.outOfGamutShare(rgb: greys) < 0.02)
        #expect(checker.outOfGamutShare(rgb: vivid) > 0.7)
        let half = checker.outOfGamutShare(rgb: Array(greys[300..<312]) + vivid)
        #expect(half > 0.4 && half < 0.6)
    }

    @Test func deltaE2000MatchesReferencePair() {
        // Sharma, Wu & Dalal (2005) CIEDE2000 test data, pair 1: ΔE00 = 2.0425.
        let a = LabColor(l: 50, a: 2.6772, b: -79.7751)
        let b = LabColor(l: 50, a: 0, b: -82.7485)
        #expect(abs(a.deltaE2000(to: b) - 2.0425) < 0.001)
    }
}
