import Crypto
import Foundation
import Testing

@testable import PressroomStorage

/// The `sha256:` contract of ``ObjectStore/putIfAbsent(_:file:contentType:sha256:)``,
/// the same for every store: a right digest stores the file as if none were
/// given, a wrong one stores nothing and says so, a malformed one is refused
/// before any write.
enum KnownSHA256Contract {
    static func hex(_ data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }

    static func check(_ store: any ObjectStore, prefix: String, size: Int) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pressroom-known-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = TestServers.bytes(size, seed: 77)
        let file = dir.appendingPathComponent("master.tif")
        try data.write(to: file)

        let key = prefix + "known"
        #expect(try await store.putIfAbsent(key, file: file, contentType: "image/tiff", sha256: hex(data)) == .created)
        #expect(try await store.head(key)?.checksumSHA256 == Data(SHA256.hash(data: data)).base64EncodedString())
        #expect(try await store.get(key) == data)
        #expect(try await store.putIfAbsent(key, file: file, contentType: "image/tiff", sha256: hex(data)) == .alreadyExists)
        #expect(try await store.putIfAbsent(key, file: file, contentType: "image/tiff") == .alreadyExists)

        let lied = prefix + "lied"
        let mismatch = await #expect(throws: ObjectStoreError.self) {
            try await store.putIfAbsent(lied, file: file, contentType: "image/tiff", sha256: hex(Data("other bytes".utf8)))
        }
        #expect(mismatch?.code == .checksumMismatch)
        #expect(try await store.head(lied) == nil)

        let malformed = await #expect(throws: ObjectStoreError.self) {
            try await store.putIfAbsent(prefix + "malformed", file: file, contentType: "image/tiff", sha256: "not-a-sha256")
        }
        #expect(malformed?.code == .badRequest)
        #expect(try await store.head(prefix + "malformed") == nil)
    }
}
