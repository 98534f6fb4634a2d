import Crypto
import Foundation
import Testing

@testable import PressroomStorage

/// The contract of ``ObjectStore/get(_:toFile:maxBytes:)``, the same for every store: the
/// bytes land in the given file (which keeps its mode), the metadata carries the SHA-256 and
/// count of the bytes written, and an object longer than `maxBytes` is refused as `.tooLarge`.
enum StreamingGetContract {
    static func check(_ store: any ObjectStore, prefix: String, size: Int) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pressroom-streaming-get-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = TestServers.bytes(size, seed: 41)
        let key = prefix + "streamed"
        _ = try await store.putIfAbsent(key, data: data, contentType: "image/jpeg")

        // A private file made by the caller stays private.
        let file = dir.appendingPathComponent("spool")
        #expect(FileManager.default.createFile(atPath: file.path, contents: nil, attributes: [.posixPermissions: 0o600]))
        let metadata = try await store.get(key, toFile: file, maxBytes: Int64(size))
        #expect(metadata.size == Int64(size))
        #expect(metadata.checksumSHA256 == Data(SHA256.hash(data: data)).base64EncodedString())
        #expect(try Data(contentsOf: file) == data)
        let mode = try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600)

        let error = await #expect(throws: ObjectStoreError.self) {
            _ = try await store.get(key, toFile: dir.appendingPathComponent("capped"), maxBytes: Int64(size - 1))
        }
        #expect(error?.code == .tooLarge, "\(String(describing: error))")
        #expect(error?.isTransient == false)
    }
}
