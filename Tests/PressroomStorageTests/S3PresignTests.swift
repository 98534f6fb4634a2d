import Foundation
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@testable import PressroomStorage

/// Against ministack (scripts/services/ministack.sh), which verifies
/// presigned URLs and handles reserved characters in keys.
@Suite("S3 presigned URLs and special keys against ministack")
struct S3PresignTests {
    let store: S3ObjectStore
    let prefix = TestServers.uniquePrefix("presign")

    init() throws {
        store = try S3ObjectStore(configuration: try TestServers.ministack().configuration(), logger: TestServers.logger)
    }

    func fetch(_ url: URL, method: String = "GET", body: Data? = nil) async throws -> (Int, Data) {
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.httpBody = body
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
    }

    @Test(arguments: ["plain.jpg", "with space.jpg", "plus+sign.jpg", "equals=sign.jpg", "semi;colon.jpg", "ünïcødé/写真.jpg", "mixed a+b=c;d é.tif"])
    func specialKeysRoundTripAndPresign(_ name: String) async throws {
        let key = prefix + name
        let data = TestServers.bytes(10_000, seed: UInt64(name.utf8.count))
        #expect(try await store.putIfAbsent(key, data: data, contentType: "image/jpeg") == .created)
        #expect(try await store.putIfAbsent(key, data: data, contentType: "image/jpeg") == .alreadyExists)
        #expect(try await store.get(key) == data)
        #expect(try await store.head(key)?.size == Int64(data.count))
        #expect(try await store.list(prefix: key, limit: nil).map(\.key) == [key])

        let url = try await store.presignedURL(for: key, method: .get, expiresIn: .seconds(300))
        let (status, body) = try await fetch(url)
        #expect(status == 200)
        #expect(body == data)

        try await store.delete(key)
        #expect(try await store.head(key) == nil)
    }

    @Test func tamperedPresignedURLIsRejected() async throws {
        let key = prefix + "tamper.jpg"
        _ = try await store.putIfAbsent(key, data: Data("secret picture".utf8), contentType: "image/jpeg")
        let url = try await store.presignedURL(for: key, method: .get, expiresIn: .seconds(300))
        var text = url.absoluteString
        let last = text.removeLast()
        text.append(last == "0" ? "1" : "0")
        let (status, _) = try await fetch(try #require(URL(string: text)))
        #expect(status == 403)
        let otherKey = url.absoluteString.replacingOccurrences(of: "tamper.jpg", with: "tamper2.jpg")
        let (otherStatus, _) = try await fetch(try #require(URL(string: otherKey)))
        #expect(otherStatus == 403)
    }

    @Test func presignedPutUploads() async throws {
        let key = prefix + "vendor upload.pdf"
        let url = try await store.presignedURL(for: key, method: .put, expiresIn: .seconds(300))
        let data = Data("%PDF-1.7 test".utf8)
        let (status, _) = try await fetch(url, method: "PUT", body: data)
        #expect(status == 200)
        #expect(try await store.get(key) == data)
    }

    /// Through a pass-through proxy that counts connections (ministack keeps
    /// connections alive; moto's server closes every one).
    @Test func connectionsAreReused() async throws {
        let server = try TestServers.ministack()
        let proxy = try FaultProxy(upstreamPort: server.port) { _ in .forward }
        defer { proxy.stop() }
        var configuration = server.configuration(endpoint: "http://127.0.0.1:\(proxy.port)")
        configuration.connections = 1
        let proxied = try S3ObjectStore(configuration: configuration, logger: TestServers.logger)
        for i in 0..<5 {
            _ = try await proxied.putIfAbsent(prefix + "reuse-\(i)", data: Data("\(i)".utf8), contentType: "text/plain")
        }
        #expect(proxy.requests.count == 5)
        #expect(proxy.connectionCount == 1)
    }

    /// ministack checks `x-amz-checksum-sha256` against the body it received.
    @Test func uploadDamagedInTransitIsRejectedAndRetried() async throws {
        let server = try TestServers.ministack()
        let data = TestServers.bytes(100_000, seed: 42)
        let once = try FaultProxy(upstreamPort: server.port) { $0.index == 0 ? .corruptRequestBody : .forward }
        defer { once.stop() }
        let retrying = try S3ObjectStore(configuration: server.configuration(endpoint: "http://127.0.0.1:\(once.port)"), logger: TestServers.logger)
        #expect(try await retrying.putIfAbsent(prefix + "damaged-once", data: data, contentType: "image/jpeg") == .created)
        #expect(try await store.get(prefix + "damaged-once") == data)
        #expect(once.requests.count == 2)

        let always = try FaultProxy(upstreamPort: server.port) { _ in .corruptRequestBody }
        defer { always.stop() }
        var configuration = server.configuration(endpoint: "http://127.0.0.1:\(always.port)")
        configuration.retry.maxAttempts = 2
        let failing = try S3ObjectStore(configuration: configuration, logger: TestServers.logger)
        let error = await #expect(throws: ObjectStoreError.self) {
            try await failing.putIfAbsent(prefix + "damaged-always", data: data, contentType: "image/jpeg")
        }
        #expect(error?.code == .checksumMismatch)
        #expect(error?.serverCode == "BadDigest")
        #expect(try await store.head(prefix + "damaged-always") == nil)
    }

    /// A single PUT sends a given digest as `x-amz-checksum-sha256`, which ministack checks.
    @Test func knownSHA256IsUsedAndCheckedForASinglePut() async throws {
        try await KnownSHA256Contract.check(store, prefix: prefix, size: 300_000)
    }

    /// libcurl stops the body at `maxBytes` and hashes it as it writes the file.
    @Test func streamingGetKeepsTheFileAndCapsTheSize() async throws {
        try await StreamingGetContract.check(store, prefix: prefix, size: 300_000)
    }

    /// Virtual-hosted addressing: `bucket.localhost` (libcurl resolves any
    /// `*.localhost` name to loopback, so no DNS setup is needed).
    @Test func virtualHostedAddressing() async throws {
        let server = try TestServers.ministack()
        var configuration = server.configuration(endpoint: "http://localhost:\(server.port)")
        configuration.addressingStyle = .virtualHosted
        let virtual = try S3ObjectStore(configuration: configuration, logger: TestServers.logger)
        let key = prefix + "virtual hosted+key.jpg"
        let data = TestServers.bytes(20_000, seed: 77)
        #expect(try await virtual.putIfAbsent(key, data: data, contentType: "image/jpeg") == .created)
        #expect(try await virtual.get(key) == data)
        #expect(try await store.get(key) == data)
        #expect(try await virtual.list(prefix: key, limit: nil).map(\.key) == [key])
        let url = try await virtual.presignedURL(for: key, method: .get, expiresIn: .seconds(60))
        #expect(url.host == "\(server.bucket).localhost")
        let (status, body) = try await fetch(url)
        #expect(status == 200)
        #expect(body == data)
    }
}
