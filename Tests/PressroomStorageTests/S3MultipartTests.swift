import Crypto
import Foundation
import Synchronization
import Testing

@testable import PressroomStorage

/// Concurrent multipart uploads against moto (signatures checked), with
/// ``FaultProxy`` in between to hold and fail parts.
@Suite("S3 multipart uploads")
struct S3MultipartTests {
    let server: TestServers.Server
    let direct: S3ObjectStore
    let prefix = TestServers.uniquePrefix("multipart")

    init() throws {
        server = try TestServers.moto()
        direct = try S3ObjectStore(configuration: server.configuration(), logger: TestServers.logger)
    }

    /// Holds every part that arrives until a second part is in the proxy at
    /// the same time, which only happens when parts are sent concurrently.
    /// (The wait is bounded so a serial uploader fails the test instead of hanging it.)
    final class Overlap: Sendable {
        private let state = Mutex((waiting: 0, met: false))
        private let condition = NSCondition()

        var met: Bool { state.withLock { $0.met } }

        func arrive() {
            condition.lock()
            defer { condition.unlock() }
            let met = state.withLock { s -> Bool in
                s.waiting += 1
                if s.waiting >= 2 { s.met = true }
                return s.met
            }
            if met { return condition.broadcast() }
            let deadline = Date().addingTimeInterval(60)
            while !state.withLock({ $0.met }), condition.wait(until: deadline) {}
            state.withLock { $0.waiting -= 1 }
        }
    }

    @Test func partsGoUpConcurrentlyAndAFailedPartIsRetried() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pressroom-mp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = TestServers.bytes(4 * (5 << 20) + 777, seed: 31)
        let file = dir.appendingPathComponent("master.tif")
        try data.write(to: file)

        let overlap = Overlap()
        let failedOnce = Mutex(false)
        let proxy = try FaultProxy(upstreamPort: server.port) { request in
            guard request.method == "PUT", request.target.contains("partNumber=") else { return .forward }
            overlap.arrive()
            let fail = request.target.contains("partNumber=3&") && failedOnce.withLock { failed in
                defer { failed = true }
                return !failed
            }
            return fail ? .respond(status: 500, headers: [], body: "<Error><Code>InternalError</Code><Message>injected</Message></Error>") : .forward
        }
        defer { proxy.stop() }
        var configuration = server.configuration(endpoint: "http://127.0.0.1:\(proxy.port)")
        configuration.multipartConcurrency = 3
        let store = try S3ObjectStore(configuration: configuration, logger: TestServers.logger)

        let key = prefix + "concurrent"
        #expect(try await store.putIfAbsent(key, file: file, contentType: "image/tiff") == .created)
        #expect(overlap.met, "two parts were never in flight at once")
        #expect(proxy.requests.filter { $0.contains("partNumber=3&") }.count == 2, "part 3 failed once and was sent again")
        #expect(proxy.requests.filter { $0.contains("partNumber=") }.count == 6)
        #expect(try await direct.head(key)?.checksumSHA256 == Data(SHA256.hash(data: data)).base64EncodedString())
        #expect(try await direct.get(key) == data)
        // The cheap check, with and without a given digest: the same bytes
        // again send no part, and the create that went out beside the HEAD
        // leaves no upload behind.
        #expect(try await store.putIfAbsent(key, file: file, contentType: "image/tiff", sha256: KnownSHA256Contract.hex(data)) == .alreadyExists)
        #expect(try await store.putIfAbsent(key, file: file, contentType: "image/tiff") == .alreadyExists)
        #expect(proxy.requests.filter { $0.contains("partNumber=") }.count == 6)
        #expect(try await direct.listMultipartUploads(prefix: prefix).isEmpty)
    }

    @Test func knownSHA256IsUsedAndCheckedForMultipart() async throws {
        try await KnownSHA256Contract.check(direct, prefix: prefix, size: 2 * (5 << 20) + 99)
        #expect(try await direct.listMultipartUploads(prefix: prefix).isEmpty, "the refused upload was aborted")
    }
}
