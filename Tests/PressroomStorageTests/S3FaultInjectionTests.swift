import Foundation
import Testing

@testable import PressroomStorage

/// Faults injected by ``FaultProxy`` between the store and moto.
@Suite("S3 store under injected faults")
struct S3FaultInjectionTests {
    let server: TestServers.Server
    let direct: S3ObjectStore
    let prefix = TestServers.uniquePrefix("faults")

    init() throws {
        server = try TestServers.moto()
        direct = try S3ObjectStore(configuration: server.configuration(), logger: TestServers.logger)
    }

    func store(through proxy: FaultProxy, _ adjust: (inout S3Configuration) -> Void = { _ in }) throws -> S3ObjectStore {
        var configuration = server.configuration(endpoint: "http://127.0.0.1:\(proxy.port)")
        adjust(&configuration)
        return try S3ObjectStore(configuration: configuration, logger: TestServers.logger)
    }

    static let slowDown = FaultProxy.Action.respond(
        status: 503, headers: [("Retry-After", "1"), ("Content-Type", "application/xml")],
        body: "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
    )

    @Test func serviceUnavailableWithRetryAfterIsRetried() async throws {
        let key = prefix + "slowdown"
        let data = TestServers.bytes(100_000, seed: 20)
        _ = try await direct.putIfAbsent(key, data: data, contentType: "application/octet-stream")
        let proxy = try FaultProxy(upstreamPort: server.port) { $0.index == 0 ? Self.slowDown : .forward }
        defer { proxy.stop() }
        #expect(try await store(through: proxy).get(key) == data)
        #expect(proxy.requests.count == 2)
    }

    @Test func slowDownIsReportedWithRetryAfterWhenRetriesRunOut() async throws {
        let proxy = try FaultProxy(upstreamPort: server.port) { _ in Self.slowDown }
        defer { proxy.stop() }
        let store = try store(through: proxy) { $0.retry.maxAttempts = 1 }
        let error = await #expect(throws: ObjectStoreError.self) { try await store.get(prefix + "any") }
        #expect(error?.code == .transient)
        #expect(error?.isTransient == true)
        #expect(error?.httpStatus == 503)
        #expect(error?.serverCode == "SlowDown")
        #expect(error?.retryAfter == 1)
    }

    @Test func internalErrorOnPutIsRetried() async throws {
        let proxy = try FaultProxy(upstreamPort: server.port) { request in
            request.index == 0
                ? .respond(status: 500, headers: [], body: "<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>")
                : .forward
        }
        defer { proxy.stop() }
        let data = TestServers.bytes(50_000, seed: 21)
        #expect(try await store(through: proxy).putIfAbsent(prefix + "retried-put", data: data, contentType: "image/jpeg") == .created)
        #expect(try await direct.get(prefix + "retried-put") == data)
    }

    @Test func connectionResetMidBodyIsRetried() async throws {
        let key = prefix + "reset"
        let data = TestServers.bytes(2 << 20, seed: 22)
        _ = try await direct.putIfAbsent(key, data: data, contentType: "application/octet-stream")
        let proxy = try FaultProxy(upstreamPort: server.port) { $0.index == 0 ? .resetResponse(afterBytes: 300_000) : .forward }
        defer { proxy.stop() }
        #expect(try await store(through: proxy).get(key) == data)
        #expect(proxy.requests.count == 2)
        #expect(proxy.connectionCount == 2)
    }

    @Test func stalledTransferIsDetected() async throws {
        let proxy = try FaultProxy(upstreamPort: server.port) { _ in .stall }
        defer { proxy.stop() }
        let store = try store(through: proxy) {
            $0.lowSpeedTimeSeconds = 1
            $0.retry.maxAttempts = 2
        }
        let error = await #expect(throws: ObjectStoreError.self) { try await store.get(prefix + "stalled") }
        #expect(error?.code == .timeout)
        #expect(error?.isTransient == true)
        #expect(proxy.requests.count == 2)
    }

    @Test func failedMultipartLeavesNoObjectAndNoIncompleteUpload() async throws {
        let key = prefix + "failed-multipart"
        let proxy = try FaultProxy(upstreamPort: server.port) { request in
            request.method == "PUT" && request.target.contains("partNumber=2")
                ? .respond(status: 500, headers: [], body: "<Error><Code>InternalError</Code><Message>injected</Message></Error>")
                : .forward
        }
        defer { proxy.stop() }
        let data = TestServers.bytes(11 << 20, seed: 23)
        let error = await #expect(throws: ObjectStoreError.self) {
            try await store(through: proxy).putIfAbsent(key, data: data, contentType: "image/tiff")
        }
        #expect(error?.code == .transient)
        #expect(proxy.requests.contains { $0.hasPrefix("DELETE") && $0.contains("uploadId=") })
        #expect(try await direct.head(key) == nil)
        #expect(try await direct.listMultipartUploads(prefix: prefix).isEmpty)
    }
}
