import Foundation
@testable import PressroomImaging
import Testing

/// Image watermarks: blended where placed and nowhere else, invisible at opacity 0, and their
/// bytes are part of the policy (missing files fail the catalog; new bytes give a new digest).
@Suite struct ImageWatermarkTests {
    /// Two otherwise identical lossless previews, one with an image watermark in the south-east corner.
    static func policies(opacity: Double) -> [String: String] {
        let body = """
            kind: preview
            size: { width: 800, height: 800, unit: px }
            output: { format: png, profile: srgb }

            """
        return [
            "plain-preview": "name: plain-preview\n" + body,
            "logo-preview": "name: logo-preview\n" + body
                + "watermark: { image: watermark.png, opacity: \(opacity), width: 0.3, placement: southeast }\n",
        ]
    }

    /// A catalog of `policies` whose profiles directory holds `watermark` as `watermark.png`.
    static func catalog(opacity: Double = 0.8, watermark: Data? = nil) throws -> PolicyCatalog {
        let root = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let policies = root.appendingPathComponent("policies")
        let profiles = root.appendingPathComponent("profiles")
        try FileManager.default.createDirectory(at: policies, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: profiles, withIntermediateDirectories: true)
        for (name, yaml) in Self.policies(opacity: opacity) {
            try yaml.write(to: policies.appendingPathComponent("\(name).yaml"), atomically: true, encoding: .utf8)
        }
        let bytes = try watermark ?? Data(contentsOf: Fixtures.profilesDirectory.appendingPathComponent("watermark.png"))
        try bytes.write(to: profiles.appendingPathComponent("watermark.png"))
        return try PolicyCatalog.load(directory: policies, profilesDirectory: profiles)
    }

    static func derive(_ catalog: PolicyCatalog) async throws -> (plain: VipsImage, logo: VipsImage) {
        let imaging = try Fixtures.imaging()
        let derived = try await imaging.derive(source: try Fixtures.data("exif/Landscape_1.jpg"), catalog: catalog)
        let plain = try VipsImage.open(try #require(derived.output(policy: "plain-preview")).data, sequential: false)
        let logo = try VipsImage.open(try #require(derived.output(policy: "logo-preview")).data, sequential: false)
        return (plain, logo)
    }

    @Test func watermarkChangesOnlyItsPlacement() async throws {
        let (plain, logo) = try await Self.derive(try Self.catalog())
        #expect(logo.width == plain.width && logo.height == plain.height)
        #expect(logo.bands == plain.bands)
        // The logo is 0.3 of the width, square, in the south-east corner.
        let side = plain.width * 3 / 10
        let corner = { (image: VipsImage) throws -> VipsImage in
            try image.extractArea(left: image.width - side, top: image.height - side, width: side, height: side)
        }
        let far = { (image: VipsImage) throws -> VipsImage in
            try image.extractArea(left: 0, top: 0, width: image.width / 2, height: image.height / 2)
        }
        // The logo is white: the corner gets brighter.
        #expect(try corner(logo).average() > corner(plain).average() + 10, "the logo brightens its corner")
        #expect(try far(logo).meanAbsoluteDifference(far(plain)) < 0.5, "nothing changes far from the logo")
    }

    @Test func zeroOpacityLeavesTheImageUnchanged() async throws {
        let (plain, logo) = try await Self.derive(try Self.catalog(opacity: 0))
        #expect(try logo.meanAbsoluteDifference(plain) < 0.5)
    }

    /// The base's band count is kept, with or without alpha.
    @Test(arguments: [3, 4])
    func bandCountIsKept(bands: Int) throws {
        _ = try Fixtures.imaging()
        let pixels = [UInt8](repeating: 40, count: 64 * 48 * bands)
        let base = try VipsImage.fromPixels(pixels, width: 64, height: 48, bands: bands)
        let logo = try Data(contentsOf: Fixtures.profilesDirectory.appendingPathComponent("watermark.png"))
        let marked = try base.watermarked(image: logo, widthFraction: 0.5, opacity: 1, placement: ProductPolicy.Watermark.Placement.centre.vipsDirection)
            .materialized()
        #expect(marked.bands == bands)
        #expect(marked.width == 64 && marked.height == 48)
        #expect(try marked.average() > base.average())
    }

    @Test func digestFollowsTheImageBytes() throws {
        let shipped = try Self.catalog()
        let other = try Self.catalog(watermark: try Fixtures.data("grey-alpha.png"))
        #expect(try shipped.policy(named: "logo-preview").watermarkImage != nil)
        #expect(try shipped.policy(named: "logo-preview").digest != other.policy(named: "logo-preview").digest)
        #expect(try shipped.policy(named: "plain-preview").digest == other.policy(named: "plain-preview").digest)
        #expect(shipped.digest != other.digest)
    }

    /// Text watermarks encode as before (no `image` key), so existing previews keep their digests and keys.
    @Test func textWatermarkCanonicalFormIsUnchanged() throws {
        let preview = try Fixtures.catalog().policy(named: "preview")
        #expect(preview.watermarkImage == nil)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = try #require(String(data: try encoder.encode(preview.policy.watermark), encoding: .utf8))
        #expect(json == #"{"font":"DejaVu Sans Bold","opacity":0.3,"placement":"centre","text":"PRESSROOM PROOF","width":0.6}"#)
    }

    @Test func unreadableWatermarkIsAPolicyError() throws {
        #expect {
            _ = try Self.catalog(watermark: Data("not an image".utf8))
        } throws: { error in
            guard let error = error as? ImagingError else { return false }
            return error.code == .policyInvalid && error.message.contains("logo-preview.yaml")
                && error.message.contains("field 'watermark.image'")
        }
    }
}
