import Foundation
@testable import PressroomImaging
import Testing

/// A master rendered from a file (a render job's spooled source) is the master rendered from the
/// same bytes in memory, and the probe refuses a file by its caps before anything decodes it.
@Suite struct SourceFileTests {
    static let cases: [(source: String, policy: String, crop: CropRect?)] = [
        ("exif/Portrait_3.jpg", "poster-a2", CropRect(x: 0.05, y: 0.1, width: 0.9, height: 0.8)),  // rotated JPEG, JPEG master
        ("exif/Landscape_6.jpg", "photobook-page", nil),  // CMYK LZW TIFF master, mirrored bleed
        ("cmyk-profile.jpg", "print-4x6", nil),  // CMYK source with its profile
        ("p3.png", "canvas-16x20", nil),  // PNG, wide-gamut profile
    ]

    @Test(arguments: cases)
    func aMasterFromAFileEqualsTheMasterFromItsBytes(source name: String, policy policyName: String, crop: CropRect?) async throws {
        let imaging = try Fixtures.imaging()
        let catalog = try Fixtures.catalog()
        let policy = try catalog.policy(named: policyName)
        let bytes = try Fixtures.data(name)
        let file = try Fixtures.file(bytes)
        defer { try? FileManager.default.removeItem(at: file) }
        let preview = try await imaging.derive(source: bytes, catalog: catalog).output(policy: "preview")?.data

        let fromBytes = try await imaging.render(source: bytes, policy: policy, crop: crop, preview: preview)
        let fromFile = try await imaging.render(sourceFile: file, sourceSHA256: try Imaging.sha256(file: file), policy: policy, crop: crop, preview: preview)
        #expect(fromFile.master.key == fromBytes.master.key)
        #expect(fromFile.verification == fromBytes.verification)
        #expect(fromFile.crop == fromBytes.crop && fromFile.effectiveDPI == fromBytes.effectiveDPI)
        #expect(fromFile.master.byteCount == fromBytes.master.byteCount)
        #expect(fromFile.master.sha256 == fromBytes.master.sha256)
        #expect(try Fixtures.take(fromFile.master) == Fixtures.take(fromBytes.master))
        #expect(fromFile.verification.previewDifference != nil)
    }

    @Test func aFileIsHashedAsItsBytesAre() throws {
        let bytes = try Fixtures.data("exif/Landscape_1.jpg")
        let file = try Fixtures.file(bytes)
        defer { try? FileManager.default.removeItem(at: file) }
        #expect(try Imaging.sha256(file: file) == Imaging.sha256(bytes))
    }

    /// The probe's caps on a file: refused with the same errors as bytes, and no master spool
    /// file was ever made (the refusal came before the decode and the encoder).
    @Test func theProbeRefusesAnOversizedOrOverPixelFileBeforeDecoding() async throws {
        let spool = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: spool) }
        let policy = try Fixtures.catalog().policy(named: "print-4x6")
        let photo = try Fixtures.file(try Fixtures.data("exif/Landscape_1.jpg"))  // 450×300
        let giant = try Fixtures.file(try Fixtures.data("giant-image.jpg"))
        defer { for file in [photo, giant] { try? FileManager.default.removeItem(at: file) } }
        func render(_ file: URL, _ configuration: ImagingConfiguration) async -> ImagingError? {
            await imagingError {
                let imaging = try Imaging(configuration: configuration, logger: .init(label: "test"))
                _ = try await imaging.render(sourceFile: file, sourceSHA256: String(repeating: "0", count: 64), policy: policy, crop: nil, preview: nil)
            }
        }
        let oversized = await render(photo, ImagingConfiguration(maxBytes: 1000, blockingThreads: 1, spoolDirectory: spool))
        #expect(oversized?.code == .tooLarge && oversized?.isPermanent == true)
        #expect(oversized?.message.contains("exceeds the 1000-byte cap") == true, "\(String(describing: oversized))")
        let overPixel = await render(photo, ImagingConfiguration(maxPixels: 450 * 300 - 1, blockingThreads: 1, spoolDirectory: spool))
        #expect(overPixel?.code == .tooManyPixels, "\(String(describing: overPixel))")
        let giantError = await render(giant, ImagingConfiguration(blockingThreads: 1, spoolDirectory: spool))
        #expect(giantError?.code == .tooManyPixels, "\(String(describing: giantError))")
        #expect(try FileManager.default.contentsOfDirectory(atPath: spool.path).isEmpty)
    }

    /// Every hostile input refused from bytes is refused the same way from a file.
    @Test(arguments: HostileInputTests.cases)
    func aHostileFileIsRefusedAsItsBytesAre(name: String, code: ImagingError.Code) async throws {
        let file = try Fixtures.file(try HostileInputTests.input(name))
        defer { try? FileManager.default.removeItem(at: file) }
        let policy = try Fixtures.catalog().policy(named: "print-4x6")
        let error = await imagingError {
            _ = try await Fixtures.imaging().render(sourceFile: file, sourceSHA256: try Imaging.sha256(file: file), policy: policy, crop: nil, preview: nil)
        }
        #expect(error?.code == code, "\(name): \(String(describing: error))")
    }

    /// The JPEG end check reads a file a block at a time from its end: markers on either side
    /// of a block boundary are found, in memory and in a file alike.
    @Test(arguments: [-2, -1, 0, 1])
    func theJPEGEndIsFoundAcrossBlockBoundaries(shift: Int) throws {
        let block = JPEGStructure.blockSize
        let count = 2 * block + 4096
        // Blocks end at count - 1, then every blockSize bytes before it.
        let boundary = count - 1 - block + shift
        var bytes = [UInt8](repeating: 0x11, count: count)
        bytes[0...3] = [0xFF, 0xD8, 0xFF, 0xE0]
        bytes[100...101] = [0xFF, 0xDA]
        // An EOI straddling (or beside) the boundary, then some trailing garbage without markers.
        bytes[boundary...(boundary + 1)] = [0xFF, 0xD9]
        var truncated = bytes
        truncated[boundary + 1] = 0x00  // FF 00: stuffed data, no end marker
        for (content, complete) in [(bytes, true), (truncated, false)] {
            let data = Data(content)
            let file = try Fixtures.file(data)
            defer { try? FileManager.default.removeItem(at: file) }
            #expect(try EncodedInput.opening(.bytes(data)) { input throws(ImagingError) in try JPEGStructure.isComplete(input) } == complete)
            #expect(try EncodedInput.opening(.file(file)) { input throws(ImagingError) in try JPEGStructure.isComplete(input) } == complete)
        }
    }
}
