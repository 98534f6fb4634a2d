import Foundation
@testable import PressroomImaging
import Testing

/// The shipped catalogue is valid; broken policy files are rejected with the file and field named.
@Suite struct PolicyValidationTests {
    @Test func shippedCatalogueLoads() throws {
        let catalog = try Fixtures.catalog()
        let names = Set(catalog.policies.map(\.name))
        #expect(names == ["thumbnail", "preview", "print-4x6", "print-5x7", "poster-a2", "canvas-16x20", "mug-11oz", "photobook-page", "greeting-card"])
        let photobook = try catalog.policy(named: "photobook-page")
        #expect(photobook.profile.isCMYK)
        #expect(try catalog.policy(named: "print-4x6").policy.pixelSize == (1800, 1200))
        #expect(try catalog.policy(named: "canvas-16x20").policy.bleedPixels == 266)
        #expect(catalog.policies.allSatisfy { $0.digest.count == 64 })
        #expect(Set(catalog.policies.map(\.digest)).count == catalog.policies.count)
    }

    static let base = """
        name: card
        kind: product
        size: { width: 100, height: 150, unit: mm, dpi: 300 }
        resolution: { minimum: 150, warning: 200 }
        output: { format: jpeg, quality: 90, profile: srgb }

        """

    static let broken: [(String, String)] = [
        (base.replacingOccurrences(of: "quality: 90", with: "quality: 500"), "output.quality"),
        (base.replacingOccurrences(of: "quality: 90", with: "qualty: 90"), "output.qualty"),
        (base.replacingOccurrences(of: "size: { width: 100, height: 150, unit: mm, dpi: 300 }\n", with: ""), "size"),
        (base.replacingOccurrences(of: "unit: mm", with: "unit: px"), "size.unit"),
        (base.replacingOccurrences(of: "dpi: 300", with: "dpi: 5"), "size.dpi"),
        (base.replacingOccurrences(of: "warning: 200", with: "warning: 100"), "resolution.warning"),
        (base.replacingOccurrences(of: "width: 100", with: "width: wide"), "size.width"),
        (base.replacingOccurrences(of: "profile: srgb", with: "profile: missing.icc"), "output.profile"),
        (base.replacingOccurrences(of: "format: jpeg", with: "format: bmp"), "output.format"),
        (base.replacingOccurrences(of: "name: card", with: "name: other"), "name"),
        (base + "bleed: { mm: 500 }\n", "bleed.mm"),
        (base.replacingOccurrences(of: "profile: srgb", with: "profile: xcmyk-2017.icc").replacingOccurrences(of: "format: jpeg", with: "format: png"), "output.format"),
        (base + "watermark: { image: missing.png }\n", "watermark.image"),
        (base + "watermark: { image: README.md }\n", "watermark.image"),
        (base + "watermark: { image: ../profiles/watermark.png }\n", "watermark.image"),
        (base + "watermark: { text: PROOF, image: watermark.png }\n", "watermark"),
        (base + "watermark: { opacity: 0.5 }\n", "watermark"),
    ]

    @Test(arguments: broken)
    func invalidPolicyNamesFileAndField(yaml: String, field: String) throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try yaml.write(to: directory.appendingPathComponent("card.yaml"), atomically: true, encoding: .utf8)
        #expect {
            _ = try PolicyCatalog.load(directory: directory, profilesDirectory: Fixtures.profilesDirectory)
        } throws: { error in
            guard let error = error as? ImagingError else { return false }
            let ok = (error.code == .policyInvalid || error.code == .badProfile)
                && error.message.contains("card.yaml") && error.message.contains("field '\(field)'")
            if !ok { Issue.record("unexpected message: \(error)") }
            return ok
        }
    }

    @Test func validBaseIsAccepted() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try Self.base.write(to: directory.appendingPathComponent("card.yaml"), atomically: true, encoding: .utf8)
        let catalog = try PolicyCatalog.load(directory: directory, profilesDirectory: Fixtures.profilesDirectory)
        #expect(try catalog.policy(named: "card").policy.output.quality == 90)
    }

    @Test func imageWatermarkIsLoadedWithTheCatalog() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try (Self.base + "watermark: { image: watermark.png, opacity: 0.5 }\n")
            .write(to: directory.appendingPathComponent("card.yaml"), atomically: true, encoding: .utf8)
        let catalog = try PolicyCatalog.load(directory: directory, profilesDirectory: Fixtures.profilesDirectory)
        let card = try catalog.policy(named: "card")
        #expect(card.policy.watermark?.image == "watermark.png")
        #expect(card.policy.watermark?.text == nil)
        #expect(card.watermarkImage == (try Data(contentsOf: Fixtures.profilesDirectory.appendingPathComponent("watermark.png"))))
    }
}
