import Foundation
import Testing

@testable import PressroomStorage

@Suite("In-memory object store")
struct InMemoryObjectStoreTests {
    @Test func behavesLikeTheRealStores() async throws {
        let store = InMemoryObjectStore()
        #expect(try await store.putIfAbsent("a/1", data: Data("x".utf8), contentType: "text/plain") == .created)
        #expect(try await store.putIfAbsent("a/1", data: Data("x".utf8), contentType: "text/plain") == .alreadyExists)
        let conflict = await #expect(throws: ObjectStoreError.self) {
            try await store.putIfAbsent("a/1", data: Data("y".utf8), contentType: "text/plain")
        }
        #expect(conflict?.code == .conflict)
        _ = try await store.putIfAbsent("a/0", data: Data("z".utf8), contentType: "text/plain")
        #expect(try await store.list(prefix: "a/", limit: nil).map(\.key) == ["a/0", "a/1"])
        #expect(try await store.head("a/1")?.size == 1)
        try await store.delete("a/1")
        let missing = await #expect(throws: ObjectStoreError.self) { try await store.get("a/1") }
        #expect(missing?.code == .notFound)
        let invalid = await #expect(throws: ObjectStoreError.self) { try await store.get("../x") }
        #expect(invalid?.code == .invalidKey)
    }

    @Test func knownSHA256IsUsedAndChecked() async throws {
        try await KnownSHA256Contract.check(InMemoryObjectStore(), prefix: "known/", size: 100_000)
    }

    @Test func streamingGetKeepsTheFileAndCapsTheSize() async throws {
        try await StreamingGetContract.check(InMemoryObjectStore(), prefix: "streamed/", size: 100_000)
    }
}
