import Crypto
import Foundation
import Testing

@testable import PressroomStorage

/// Against moto in server mode with signature checking on (scripts/services/s3.sh).
@Suite("S3 store against moto")
struct S3ObjectStoreTests {
    let server: TestServers.Server
    let store: S3ObjectStore
    let prefix = TestServers.uniquePrefix("s3")

    init() throws {
        server = try TestServers.moto()
        store = try S3ObjectStore(configuration: server.configuration(), logger: TestServers.logger)
    }

    @Test func putGetHeadDeleteRoundTrip() async throws {
        let key = prefix + "master.jpg"
        let data = TestServers.bytes(1 << 20, seed: 1)
        #expect(try await store.putIfAbsent(key, data: data, contentType: "image/jpeg") == .created)
        #expect(try await store.get(key) == data)
        let head = try #require(try await store.head(key))
        #expect(head.size == Int64(data.count))
        #expect(head.contentType == "image/jpeg")
        #expect(head.checksumSHA256 == Data(SHA256.hash(data: data)).base64EncodedString())
        #expect(head.lastModified != nil)
        try await store.delete(key)
        #expect(try await store.head(key) == nil)
        try await store.delete(key)
        let error = await #expect(throws: ObjectStoreError.self) { try await store.get(key) }
        #expect(error?.code == .notFound)
        #expect(error?.serverCode == "NoSuchKey")
    }

    @Test func conditionalPut() async throws {
        let key = prefix + "derivative.webp"
        let data = Data("the same bytes".utf8)
        #expect(try await store.putIfAbsent(key, data: data, contentType: "image/webp") == .created)
        #expect(try await store.putIfAbsent(key, data: data, contentType: "image/webp") == .alreadyExists)
        let error = await #expect(throws: ObjectStoreError.self) {
            try await store.putIfAbsent(key, data: Data("other bytes".utf8), contentType: "image/webp")
        }
        #expect(error?.code == .conflict)
        #expect(error?.isTransient == false)
        #expect(try await store.get(key) == data)
    }

    @Test func streamingToAndFromFiles() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pressroom-s3-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = TestServers.bytes(3 << 20, seed: 3)
        try data.write(to: dir.appendingPathComponent("in"))
        let key = prefix + "from-file"
        #expect(try await store.putIfAbsent(key, file: dir.appendingPathComponent("in"), contentType: "application/octet-stream") == .created)
        let metadata = try await store.get(key, toFile: dir.appendingPathComponent("out"))
        #expect(metadata.size == Int64(data.count))
        #expect(try Data(contentsOf: dir.appendingPathComponent("out")) == data)
    }

    @Test func listPaginates() async throws {
        let keys = (0..<7).map { prefix + "list-item-\($0)" }
        for key in keys.reversed() {
            _ = try await store.putIfAbsent(key, data: Data(key.utf8), contentType: "text/plain")
        }
        let all = try await store.list(prefix: prefix + "list-", limit: nil, pageSize: 2)
        #expect(all.map(\.key) == keys)
        #expect(all.allSatisfy { $0.size == Int64($0.key.utf8.count) })
        let limited = try await store.list(prefix: prefix + "list-", limit: 3, pageSize: 2)
        #expect(limited.map(\.key) == Array(keys.prefix(3)))
        let failures = try await store.delete(keys: keys)
        #expect(failures.isEmpty)
        #expect(try await store.list(prefix: prefix + "list-", limit: nil).isEmpty)
    }

    @Test func listPagesResumeAfterACursorAndDeleteInBatches() async throws {
        let keys = (0..<9).map { prefix + "page-\($0)" }
        for key in keys { _ = try await store.putIfAbsent(key, data: Data(key.utf8), contentType: "text/plain") }
        var seen: [String] = []
        var cursor: String?
        var pages = 0
        repeat {
            let page = try await store.listPage(prefix: prefix + "page-", after: cursor, limit: 4)
            seen += page.objects.map(\.key)
            cursor = page.next
            pages += 1
        } while cursor != nil
        #expect(seen == keys)
        #expect(pages == 3)
        #expect(try await store.delete(keys: keys + [prefix + "never-existed"]).isEmpty)
        #expect(try await store.listPage(prefix: prefix + "page-", after: nil, limit: 10).objects.isEmpty)
    }

    @Test func copyAndTags() async throws {
        let key = prefix + "tag-me"
        _ = try await store.putIfAbsent(key, data: Data("x".utf8), contentType: "text/plain")
        try await store.setTags(key, ["pressroom-scan": "infected", "pressroom-signature": "Eicar-Test-Signature"])
        #expect(try await store.tags(key) == ["pressroom-scan": "infected", "pressroom-signature": "Eicar-Test-Signature"])
        #expect(try await store.copyIfAbsent(from: key, to: prefix + "copied") == .created)
        #expect(try await store.copyIfAbsent(from: key, to: prefix + "copied") == .alreadyExists)
        #expect(try await store.get(prefix + "copied") == Data("x".utf8))
    }

    @Test func multipartUploadFromMemoryAndFile() async throws {
        let data = TestServers.bytes(11 << 20 + 12345, seed: 4)
        let key = prefix + "multipart"
        #expect(try await store.putIfAbsent(key, data: data, contentType: "image/tiff") == .created)
        #expect(try await store.get(key) == data)
        let head = try #require(try await store.head(key))
        #expect(head.checksumSHA256 == Data(SHA256.hash(data: data)).base64EncodedString())
        #expect(try await store.putIfAbsent(key, data: data, contentType: "image/tiff") == .alreadyExists)
        var other = data
        other[0] ^= 1
        let error = await #expect(throws: ObjectStoreError.self) {
            try await store.putIfAbsent(key, data: other, contentType: "image/tiff")
        }
        #expect(error?.code == .conflict)

        let file = FileManager.default.temporaryDirectory.appendingPathComponent("pressroom-mp-\(UUID().uuidString)")
        try other.write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        #expect(try await store.putIfAbsent(prefix + "multipart-file", file: file, contentType: "image/tiff") == .created)
        #expect(try await store.get(prefix + "multipart-file") == other)
        #expect(try await store.listMultipartUploads(prefix: prefix).isEmpty)
    }

    @Test func wrongSecretIsAClearAccessDenied() async throws {
        let secret = "definitely-not-the-secret-\(UUID().uuidString)"
        let bad = try S3ObjectStore(configuration: server.configuration(secret: secret), logger: TestServers.logger)
        let error = await #expect(throws: ObjectStoreError.self) {
            try await bad.putIfAbsent(prefix + "denied", data: Data("x".utf8), contentType: "text/plain")
        }
        #expect(error?.code == .accessDenied)
        #expect(error?.httpStatus == 403)
        #expect(error?.serverCode == "SignatureDoesNotMatch")
        #expect(error?.message.contains("SignatureDoesNotMatch") == true)
        #expect(error.map { "\($0)" }?.contains(secret) == false)
        #expect(error?.isTransient == false)
    }

    @Test func unknownBucketIsAClearNotFound() async throws {
        let missing = try S3ObjectStore(configuration: server.configuration(bucket: "no-such-bucket-\(UUID().uuidString.prefix(8).lowercased())"), logger: TestServers.logger)
        let error = await #expect(throws: ObjectStoreError.self) {
            try await missing.putIfAbsent("x", data: Data("x".utf8), contentType: "text/plain")
        }
        #expect(error?.code == .notFound)
        #expect(error?.serverCode == "NoSuchBucket")
        #expect(error?.httpStatus == 404)
        let headError = await #expect(throws: ObjectStoreError.self) { try await missing.list(prefix: "", limit: 1) }
        #expect(headError?.serverCode == "NoSuchBucket")
    }

    @Test func corruptedDownloadIsDetectedAndRetried() async throws {
        let key = prefix + "verified"
        let data = TestServers.bytes(200_000, seed: 5)
        _ = try await store.putIfAbsent(key, data: data, contentType: "application/octet-stream")
        // First GET through the proxy gets one byte flipped; the retry is clean.
        let proxy = try FaultProxy(upstreamPort: server.port) { request in
            request.method == "GET" && request.index == 0 ? .corruptResponseBody : .forward
        }
        defer { proxy.stop() }
        let proxied = try S3ObjectStore(configuration: server.configuration(endpoint: "http://127.0.0.1:\(proxy.port)"), logger: TestServers.logger)
        #expect(try await proxied.get(key) == data)
        #expect(proxy.requests.count == 2)

        var once = server.configuration(endpoint: "http://127.0.0.1:\(proxy.port)")
        once.retry.maxAttempts = 1
        let alwaysCorrupt = try FaultProxy(upstreamPort: server.port) { _ in .corruptResponseBody }
        defer { alwaysCorrupt.stop() }
        once.endpoint = "http://127.0.0.1:\(alwaysCorrupt.port)"
        let noRetry = try S3ObjectStore(configuration: once, logger: TestServers.logger)
        let error = await #expect(throws: ObjectStoreError.self) { try await noRetry.get(key) }
        #expect(error?.code == .checksumMismatch)
    }

    @Test func emptyObject() async throws {
        let key = prefix + "empty"
        #expect(try await store.putIfAbsent(key, data: Data(), contentType: "application/octet-stream") == .created)
        #expect(try await store.get(key) == Data())
        #expect(try await store.head(key)?.size == 0)
        #expect(try await store.putIfAbsent(key, data: Data(), contentType: "application/octet-stream") == .alreadyExists)
    }
}

/// A single-part object's ETag is its MD5 (what vendors' APIs take as a checksum); other forms are not.
@Suite("S3 ETag as MD5")
struct S3ETagTests {
    @Test func plainMD5ReadsQuotedAndWeakETagsOnly() {
        let md5 = "9e107d9d372bb6826bd81d3542a419d6"
        #expect(S3ObjectStore.plainMD5(etag: "\"\(md5)\"") == md5)
        #expect(S3ObjectStore.plainMD5(etag: "W/\"\(md5.uppercased())\"") == md5)
        #expect(S3ObjectStore.plainMD5(etag: " \(md5) ") == md5)
        #expect(S3ObjectStore.plainMD5(etag: "\"\(md5)-3\"") == nil, "a multipart ETag is not an MD5")
        #expect(S3ObjectStore.plainMD5(etag: "\"\"") == nil)
        #expect(S3ObjectStore.plainMD5(etag: nil) == nil)
    }
}
