import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A small HTTP/1.1 proxy on loopback that sits between the S3 store and the
/// real test server and injects faults per request: canned error responses,
/// connections reset in the middle of a response body, corrupted bodies, and
/// stalls. It parses request heads and `Content-Length` bodies (all the store
/// sends) and pipes responses through unchanged unless told otherwise.
final class FaultProxy: Sendable {
    enum Action: Sendable {
        case forward
        /// Answer without asking the server, then close the connection.
        case respond(status: Int, headers: [(String, String)], body: String)
        /// Forward, then reset (RST) the client connection after this many response bytes.
        case resetResponse(afterBytes: Int)
        /// Forward, flipping one byte of the response body.
        case corruptResponseBody
        /// Forward with one byte of the request body flipped (damage in transit).
        case corruptRequestBody
        /// Read the request and never answer.
        case stall
    }

    struct Request: Sendable {
        var method: String
        var target: String
        /// 0-based count of requests seen by this proxy.
        var index: Int
    }

    let port: Int
    private let upstreamPort: Int
    private let listener: Int32
    private let rule: @Sendable (Request) -> Action
    private let state = Mutex(State())

    private struct State {
        var count = 0
        var log: [String] = []
        var sockets: Set<Int32> = []
        var connections = 0
        var stopped = false
    }

    init(upstreamPort: Int, rule: @escaping @Sendable (Request) -> Action) throws {
        self.upstreamPort = upstreamPort
        self.rule = rule
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = Self.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 64) == 0 else { throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.listener = fd
        self.port = Int(UInt16(bigEndian: address.sin_port))
        let thread = Thread { [self] in self.acceptLoop() }
        thread.start()
    }

    /// Client connections accepted so far.
    var connectionCount: Int { state.withLock { $0.connections } }

    /// Request lines seen, in order (`PUT /bucket/key?partNumber=1...`).
    var requests: [String] { state.withLock { $0.log } }

    /// Ends every connection. Sockets are shut down under the lock that
    /// also guards closing them, so a descriptor number reused elsewhere in
    /// the test process is never touched.
    func stop() {
        state.withLock { state in
            state.stopped = true
            for fd in state.sockets { shutdown(fd, Int32(SHUT_RDWR)) }
        }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private func untrackAndClose(_ fd: Int32) {
        state.withLock { state in
            state.sockets.remove(fd)
            close(fd)
        }
    }

    // MARK: Connections

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if state.withLock({ $0.stopped }) { return }
                continue
            }
            state.withLock { state in
                state.sockets.insert(client)
                state.connections += 1
            }
            let thread = Thread { [self] in self.serve(client) }
            thread.start()
        }
    }

    private func track(_ fd: Int32) { state.withLock { _ = $0.sockets.insert(fd) } }

    private final class Connection: @unchecked Sendable {
        let client: Int32
        var upstream: Int32 = -1
        /// What to do to the next response (set before its request is forwarded).
        let pending = Mutex<Action>(.forward)
        let pumpDone = DispatchSemaphore(value: 0)
        init(client: Int32) { self.client = client }
    }

    private func serve(_ client: Int32) {
        let connection = Connection(client: client)
        var buffer = [UInt8]()
        defer {
            shutdown(client, Int32(SHUT_RDWR))
            if connection.upstream >= 0 {
                shutdown(connection.upstream, Int32(SHUT_RDWR))
                connection.pumpDone.wait()
                untrackAndClose(connection.upstream)
            }
            untrackAndClose(client)
        }
        while true {
            // Request head.
            var headEnd: Int?
            while headEnd == nil {
                if let range = Self.find([13, 10, 13, 10], in: buffer) { headEnd = range; break }
                guard let chunk = Self.receive(client) else { return }
                buffer += chunk
            }
            let head = String(decoding: buffer[..<headEnd!], as: UTF8.self)
            let lines = head.components(separatedBy: "\r\n")
            let parts = lines[0].split(separator: " ")
            let contentLength = lines.dropFirst().compactMap { line -> Int? in
                let kv = line.split(separator: ":", maxSplits: 1)
                guard kv.count == 2, kv[0].lowercased() == "content-length" else { return nil }
                return Int(kv[1].trimmingCharacters(in: .whitespaces))
            }.first ?? 0
            let total = headEnd! + 4 + contentLength
            while buffer.count < total {
                guard let chunk = Self.receive(client) else { return }
                buffer += chunk
            }
            var message = Array(buffer[..<total])
            buffer.removeFirst(total)
            let index = state.withLock { state -> Int in
                state.log.append(lines[0])
                state.count += 1
                return state.count - 1
            }
            let action = rule(Request(method: String(parts.first ?? ""), target: parts.count > 1 ? String(parts[1]) : "", index: index))
            switch action {
            case .respond(let status, let headers, let body):
                var text = "HTTP/1.1 \(status) Injected\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n"
                for (name, value) in headers { text += "\(name): \(value)\r\n" }
                text += "\r\n" + body
                Self.sendAll(client, Array(text.utf8))
                return
            case .stall:
                while !state.withLock({ $0.stopped }) { usleep(50_000) }
                return
            case .forward, .resetResponse, .corruptResponseBody, .corruptRequestBody:
                if case .corruptRequestBody = action, contentLength > 0 {
                    message[headEnd! + 4 + contentLength / 2] ^= 0xFF
                }
                if connection.upstream < 0 {
                    guard let upstream = connectUpstream() else { return }
                    connection.upstream = upstream
                    track(upstream)
                    let pump = Thread { [self] in self.pump(connection) }
                    pump.start()
                }
                connection.pending.withLock { $0 = action }
                Self.sendAll(connection.upstream, message)
            }
        }
    }

    /// Copies responses from the server to the client, applying the pending action.
    private func pump(_ connection: Connection) {
        defer { connection.pumpDone.signal() }
        var relayed = 0
        var seenHeadEnd = false
        var window: [UInt8] = []
        while let chunk = Self.receive(connection.upstream) {
            var bytes = chunk
            let action = connection.pending.withLock { $0 }
            switch action {
            case .resetResponse(let after):
                if relayed + bytes.count >= after {
                    Self.sendAll(connection.client, Array(bytes.prefix(max(0, after - relayed))))
                    var linger = linger(l_onoff: 1, l_linger: 0)
                    setsockopt(connection.client, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<linger>.size))
                    shutdown(connection.client, Int32(SHUT_RDWR))
                    shutdown(connection.upstream, Int32(SHUT_RDWR))
                    return
                }
            case .corruptResponseBody:
                if !seenHeadEnd {
                    window += bytes
                    if let end = Self.find([13, 10, 13, 10], in: window) {
                        let offsetInChunk = end + 4 + 10 - (window.count - bytes.count)
                        if offsetInChunk >= 0 && offsetInChunk < bytes.count {
                            bytes[offsetInChunk] ^= 0xFF
                            seenHeadEnd = true
                            connection.pending.withLock { $0 = .forward }
                        }
                    }
                }
            default:
                break
            }
            relayed += bytes.count
            Self.sendAll(connection.client, bytes)
        }
        shutdown(connection.client, Int32(SHUT_RDWR))
    }

    private func connectUpstream() -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = Self.loopback(port: upstreamPort)
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if rc != 0 {
            close(fd)
            return nil
        }
        return fd
    }

    // MARK: Helpers

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    private static func receive(_ fd: Int32) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 256 * 1024)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return nil }
            return Array(buffer[..<n])
        }
    }

    private static func sendAll(_ fd: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            offset += n
        }
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for i in 0...(haystack.count - needle.count) where haystack[i] == needle[0] {
            if Array(haystack[i..<(i + needle.count)]) == needle { return i }
        }
        return nil
    }
}
