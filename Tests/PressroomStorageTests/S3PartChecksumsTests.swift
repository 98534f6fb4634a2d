import Foundation
import Testing

@testable import PressroomStorage

/// The part checksums S3 checks (no test server does: moto and ministack take
/// `x-amz-checksum-crc32` as given), against zlib's and hashlib's values.
@Suite("S3 part checksums")
struct S3PartChecksumsTests {
    @Test func crc32IsBigEndianBase64() throws {
        let checksums = try S3PartSource.data(Data("123456789".utf8)).checksums((offset: 0, length: 9))
        #expect(checksums.crc32 == 0xCBF4_3926)
        #expect(checksums.crc32Base64 == "y/Q5Jg==")
    }

    /// Longer than several reads, with an offset: memory and file sources agree with the reference.
    @Test func rangesOfDataAndFileAcrossReads() throws {
        let bytes = Data(repeating: 0x62, count: 7) + Data(repeating: 0x61, count: (3 << 20) + 5) + Data(repeating: 0x62, count: 3)
        let range = (offset: Int64(7), length: Int64((3 << 20) + 5))
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("pressroom-crc-\(UUID().uuidString)")
        try bytes.write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        for source in [S3PartSource.data(bytes), .file(path: file.path)] {
            let checksums = try source.checksums(range)
            #expect(checksums.crc32Base64 == "WvfBTQ==")
            #expect(checksums.sha256.map { String(format: "%02x", $0) }.joined() == "aff2c7498aae939dfb2fb1dc6c0c83fa3708b069428e51338801af7f5dc2bf0f")
            #expect(Data(try source.digest(range)) == checksums.sha256)
        }
    }
}
