import Foundation
@testable import PressroomImaging
import Testing

/// Hostile and broken inputs give classified permanent errors, never a crash, and the pipeline keeps serving.
@Suite struct HostileInputTests {
    static let svg = Data("""
        <?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="100000" height="100000">\
        <rect width="100%" height="100%" fill="red"/></svg>
        """.utf8)
    static let pdf = Data("%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n".utf8)

    static func input(_ name: String) throws -> Data {
        switch name {
        case "truncated.jpg":
            let full = try Fixtures.data("exif/Landscape_1.jpg")
            return full.prefix(full.count / 2)
        case "text-named.jpg": return Data("this is not an image, just text with a .jpg name\n".utf8)
        case "drawing.svg": return svg
        case "document.pdf": return pdf
        case "empty.jpg": return Data()
        default: return try Fixtures.data(name)
        }
    }

    static let cases: [(String, ImagingError.Code)] = [
        ("truncated.jpg", .corrupt),
        ("corrupt-header.jpg", .corrupt),
        ("giant-image.jpg", .tooManyPixels),
        ("65536-uint32-limit.png", .tooManyPixels),
        ("bad-icc.jpg", .badProfile),
        ("text-named.jpg", .unsupportedFormat),
        ("drawing.svg", .unsupportedFormat),
        ("document.pdf", .unsupportedFormat),
        ("empty.jpg", .unsupportedFormat),
        // Strips under maxPixels: refused from the header, before libvips spends a row's overhead 4 million times.
        ("strip-1x4000000.png", .degenerateShape),
        ("strip-4000000x1.png", .degenerateShape),
        ("strip-2x2000000.png", .degenerateShape),
    ]

    @Test(arguments: cases)
    func hostileInputIsPermanentErrorAndNextImageWorks(name: String, code: ImagingError.Code) async throws {
        let imaging = try Fixtures.imaging()
        let catalog = try Fixtures.catalog()
        let data = try Self.input(name)
        let deriveError = await imagingError { _ = try await imaging.derive(source: data, catalog: catalog) }
        #expect(deriveError?.code == code, "\(name): \(String(describing: deriveError))")
        #expect(deriveError?.isPermanent == true)
        #expect(!(deriveError?.message.isEmpty ?? true))
        let renderError = await imagingError {
            _ = try await imaging.render(source: data, policy: try catalog.policy(named: "print-4x6"), crop: nil, preview: nil)
        }
        #expect(renderError?.code == code, "\(name): \(String(describing: renderError))")
        // The same pipeline still serves a good image afterwards.
        let good = try await imaging.derive(source: try Fixtures.data("exif/Landscape_1.jpg"), catalog: catalog)
        #expect(good.outputs.count == catalog.derivatives.count + 1)
    }

    @Test func shapeLimitsAreConfigurableAndNameTheirSetting() async throws {
        let photo = try Fixtures.data("exif/Landscape_1.jpg")  // 450×300
        let catalog = try Fixtures.catalog()
        let narrow = try Imaging(configuration: ImagingConfiguration(blockingThreads: 1, minShortSide: 301), logger: .init(label: "test"))
        let short = await imagingError { _ = try await narrow.inspect(source: photo, catalog: catalog) }
        #expect(short?.code == .degenerateShape && short?.isPermanent == true)
        #expect(short?.message.contains("shorter side (300 px) is below the 301-px minimum (imaging.minShortSide)") == true, "\(String(describing: short))")
        let square = try Imaging(configuration: ImagingConfiguration(blockingThreads: 1, maxAspectRatio: 1.4), logger: .init(label: "test"))
        let wide = await imagingError { _ = try await square.probe(photo) }
        #expect(wide?.code == .degenerateShape)
        #expect(wide?.message.contains("aspect ratio 1.5:1 exceeds the 1.4:1 maximum (imaging.maxAspectRatio)") == true, "\(String(describing: wide))")
        // The defaults let ordinary photos through.
        #expect(try await Fixtures.imaging().probe(photo).width == 450)
    }

    @Test func byteCapRejectsBeforeDecoding() async throws {
        let imaging = try Imaging(configuration: ImagingConfiguration(maxBytes: 1000, blockingThreads: 1), logger: .init(label: "test"))
        let error = await imagingError { _ = try await imaging.probe(try Fixtures.data("exif/Landscape_1.jpg")) }
        #expect(error?.code == .tooLarge)
        #expect(error?.isPermanent == true)
    }

    @Test func malformedOutputProfileInPolicyIsRejected() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let policies = directory.appendingPathComponent("policies")
        let profiles = directory.appendingPathComponent("profiles")
        try FileManager.default.createDirectory(at: policies, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: profiles, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Fixtures.url("invalid-illuminant.icc"), to: profiles.appendingPathComponent("broken.icc"))
        try """
            name: card
            kind: product
            size: { width: 100, height: 150, unit: mm, dpi: 300 }
            output: { format: jpeg, profile: broken.icc }
            """.write(to: policies.appendingPathComponent("card.yaml"), atomically: true, encoding: .utf8)
        #expect {
            _ = try PolicyCatalog.load(directory: policies)
        } throws: { error in
            guard let error = error as? ImagingError else { return false }
            return error.code == .badProfile && error.message.contains("card.yaml") && error.message.contains("output.profile")
        }
    }
}
