import FlyingFox
import FlyingSocks
import Foundation
import Synchronization

/// A small HTTP server on loopback that plays the object store for the
/// vendor's asset downloads: named blobs, a 403 path, and gated blobs whose
/// download waits until the test opens the gate (to hold a create in flight).
final class AssetServer: Sendable {
    /// A download that blocks until `open()`, and reports its arrival.
    actor Gate {
        private var arrivals = 0
        private var opened = false
        private var arrivalWaiters: [CheckedContinuation<Void, Never>] = []
        private var openWaiters: [CheckedContinuation<Void, Never>] = []

        func arrive() async {
            arrivals += 1
            arrivalWaiters.forEach { $0.resume() }
            arrivalWaiters.removeAll()
            if opened { return }
            await withCheckedContinuation { openWaiters.append($0) }
        }

        func waitForArrival() async {
            if arrivals > 0 { return }
            await withCheckedContinuation { arrivalWaiters.append($0) }
        }

        func open() {
            opened = true
            openWaiters.forEach { $0.resume() }
            openWaiters.removeAll()
        }
    }

    private struct State {
        var blobs: [String: Data] = [:]
        var hits: [String: Int] = [:]
        var gates: [String: Gate] = [:]
    }

    /// Shared by the route closure and the test-facing methods.
    private final class Storage: Sendable {
        let state = Mutex(State())
    }

    private let storage: Storage
    private let server: HTTPServer
    let port: UInt16

    private static let sharedServer = SharedServer()

    private actor SharedServer {
        private var starting: Task<AssetServer, any Error>?
        func get() async throws -> AssetServer {
            let task = starting ?? Task { try await AssetServer() }
            starting = task
            return try await task.value
        }
    }

    static func shared() async throws -> AssetServer {
        try await sharedServer.get()
    }

    private init() async throws {
        let storage = Storage()
        let server = HTTPServer(address: try sockaddr_in.inet(ip4: "127.0.0.1", port: 0), timeout: 600, logger: .disabled)
        await server.appendRoute("GET /*") { request in
            let name = String(request.path.dropFirst())
            let (blob, gate) = storage.state.withLock { state -> (Data?, Gate?) in
                state.hits[name, default: 0] += 1
                return (state.blobs[name], state.gates[name])
            }
            if name.hasPrefix("forbidden/") {
                return HTTPResponse(statusCode: .forbidden, body: Data("<Error><Code>AccessDenied</Code></Error>".utf8))
            }
            if let gate { await gate.arrive() }
            guard let blob else { return HTTPResponse(statusCode: .notFound) }
            return HTTPResponse(statusCode: .ok, headers: [.contentType: "application/octet-stream"], body: blob)
        }
        Task { try await server.run() }
        try await server.waitUntilListening(timeout: 30)
        guard case .ip4(_, let bound)? = await server.listeningAddress else { throw SocketError.unsupportedAddress }
        self.storage = storage
        self.server = server
        self.port = bound
    }

    func url(_ name: String) -> String { "http://127.0.0.1:\(port)/\(name)" }

    /// Serves `data` under a fresh name and returns its URL.
    func put(_ data: Data, name: String = "blob-\(UUID().uuidString)") -> String {
        storage.state.withLock { $0.blobs[name] = data }
        return url(name)
    }

    /// Like `put`, but each download waits for the gate.
    func putGated(_ data: Data) -> (url: String, gate: Gate) {
        let name = "gated-\(UUID().uuidString)"
        let gate = Gate()
        storage.state.withLock {
            $0.blobs[name] = data
            $0.gates[name] = gate
        }
        return (url(name), gate)
    }

    func hits(_ url: String) -> Int {
        let name = url.split(separator: "/").dropFirst(2).joined(separator: "/")
        return storage.state.withLock { $0.hits[name] ?? 0 }
    }
}
