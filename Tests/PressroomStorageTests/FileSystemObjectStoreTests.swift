import Crypto
import Foundation
import Testing

@testable import PressroomStorage

@Suite("Filesystem object store")
final class FileSystemObjectStoreTests: Sendable {
    let root: URL
    let store: FileSystemObjectStore

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("pressroom-fs-\(UUID().uuidString)")
        store = try FileSystemObjectStore(configuration: .init(root: root.path), logger: TestServers.logger)
    }

    deinit {
        try? FileManager.default.removeItem(at: root)
    }

    @Test func putGetHeadDeleteRoundTrip() async throws {
        let data = TestServers.bytes(300_000, seed: 1)
        #expect(try await store.putIfAbsent("masters/a b+c=d;é.jpg", data: data, contentType: "image/jpeg") == .created)
        #expect(try await store.get("masters/a b+c=d;é.jpg") == data)
        let head = try #require(try await store.head("masters/a b+c=d;é.jpg"))
        #expect(head.size == 300_000)
        #expect(head.contentType == "image/jpeg")
        #expect(head.checksumSHA256 == Data(SHA256.hash(data: data)).base64EncodedString())
        try await store.delete("masters/a b+c=d;é.jpg")
        #expect(try await store.head("masters/a b+c=d;é.jpg") == nil)
        try await store.delete("masters/a b+c=d;é.jpg")  // absent: not an error
        await #expect(throws: ObjectStoreError.self) { try await store.get("masters/a b+c=d;é.jpg") }
    }

    @Test func emptyObject() async throws {
        #expect(try await store.putIfAbsent("empty", data: Data(), contentType: "text/plain") == .created)
        #expect(try await store.get("empty") == Data())
        #expect(try await store.head("empty")?.size == 0)
    }

    @Test func createOnlyWrites() async throws {
        let data = Data("first".utf8)
        #expect(try await store.putIfAbsent("k/x", data: data, contentType: "text/plain") == .created)
        #expect(try await store.putIfAbsent("k/x", data: data, contentType: "text/plain") == .alreadyExists)
        let error = await #expect(throws: ObjectStoreError.self) {
            try await store.putIfAbsent("k/x", data: Data("second".utf8), contentType: "text/plain")
        }
        #expect(error?.code == .conflict)
        #expect(error?.isTransient == false)
        #expect(try await store.get("k/x") == data)
    }

    @Test func concurrentWritersOfDifferentContentLeaveOneIntactObject() async throws {
        let candidates = (0..<8).map { TestServers.bytes(200_000, seed: UInt64($0 + 10)) }
        let outcomes = await withTaskGroup(of: Bool.self) { group in
            for data in candidates {
                group.addTask { (try? await self.store.putIfAbsent("race", data: data, contentType: "application/octet-stream")) == .created }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 }.count == 1)
        let stored = try await store.get("race")
        #expect(candidates.contains(stored))
        let tmpFiles = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("tmp").path)
        #expect(tmpFiles.isEmpty)
    }

    @Test(arguments: ["", "/etc/passwd", "../escape", "a/../../b", "a//b", "a/./b", "nul\u{0}byte", "trailing/", String(repeating: "x", count: 1025)])
    func rejectsUnsafeKeys(_ key: String) async throws {
        let error = await #expect(throws: ObjectStoreError.self) {
            try await store.putIfAbsent(key, data: Data("x".utf8), contentType: "text/plain")
        }
        #expect(error?.code == .invalidKey)
    }

    @Test func refusesToFollowSymlinksOutOfTheRoot() async throws {
        let outside = FileManager.default.temporaryDirectory.appendingPathComponent("pressroom-outside-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: root.appendingPathComponent("objects/link").path, withDestinationPath: outside.path)
        let error = await #expect(throws: ObjectStoreError.self) {
            try await store.putIfAbsent("link/file", data: Data("x".utf8), contentType: "text/plain")
        }
        #expect(error?.code == .invalidKey)
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside.path).isEmpty)
        try FileManager.default.removeItem(at: outside)
    }

    @Test func listIsSortedFilteredAndLimited() async throws {
        for key in ["p/b", "p/a", "p/c/d", "q/z"] {
            _ = try await store.putIfAbsent(key, data: Data(key.utf8), contentType: "text/plain")
        }
        #expect(try await store.list(prefix: "p/", limit: nil).map(\.key) == ["p/a", "p/b", "p/c/d"])
        #expect(try await store.list(prefix: "p/", limit: 2).map(\.key) == ["p/a", "p/b"])
        #expect(try await store.list(prefix: "", limit: nil).count == 4)
    }

    @Test func fileStreamingPutAndGet() async throws {
        let data = TestServers.bytes(3 << 20, seed: 7)
        let source = root.appendingPathComponent("source.bin")
        try data.write(to: source)
        #expect(try await store.putIfAbsent("big/file", file: source, contentType: "application/octet-stream") == .created)
        #expect(try await store.putIfAbsent("big/file", data: data, contentType: "application/octet-stream") == .alreadyExists)
        let target = root.appendingPathComponent("target.bin")
        let metadata = try await store.get("big/file", toFile: target)
        #expect(metadata.size == Int64(data.count))
        #expect(try Data(contentsOf: target) == data)
        let url = try await store.presignedURL(for: "big/file", method: .get, expiresIn: .seconds(60))
        #expect(try Data(contentsOf: url) == data)
    }

    @Test func streamingGetKeepsTheFileAndCapsTheSize() async throws {
        try await StreamingGetContract.check(store, prefix: "streamed/", size: 300_000)
    }

    @Test func knownSHA256IsUsedAndChecked() async throws {
        try await KnownSHA256Contract.check(store, prefix: "known/", size: 300_000)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("tmp").path)
        #expect(leftovers.isEmpty, "the refused write left its temp file behind")
    }
}

@Suite("Filesystem object store crash recovery")
struct FileSystemCrashRecoveryTests {
    @Test func leftoversOfAnInterruptedWriteAreNeverObjectsAndAreCleanedUp() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("pressroom-fs-crash-\(UUID().uuidString)")
        let first = try FileSystemObjectStore(configuration: .init(root: root.path), logger: TestServers.logger)
        _ = try await first.putIfAbsent("kept", data: Data("ok".utf8), contentType: "text/plain")
        // What a crash between write and link(2) leaves: a temporary file only.
        let stale = root.appendingPathComponent("tmp/put-crashed")
        try Data("partial".utf8).write(to: stale)
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-2 * 86_400)], ofItemAtPath: stale.path)
        #expect(try await first.list(prefix: "", limit: nil).map(\.key) == ["kept"])

        let reopened = try FileSystemObjectStore(configuration: .init(root: root.path), logger: TestServers.logger)
        #expect(!FileManager.default.fileExists(atPath: stale.path))
        #expect(try await reopened.get("kept") == Data("ok".utf8))
        try FileManager.default.removeItem(at: root)
    }
}
