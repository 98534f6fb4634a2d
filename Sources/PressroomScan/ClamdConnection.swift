import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One blocking socket to clamd. Lives on a ``PressroomSupport/BlockingThreadPool``
/// thread for the length of one command; never on the cooperative pool.
final class ClamdConnection {
    private var fd: Int32

    /// Connects with a deadline, then applies `ioTimeout` to every read and write.
    init(address: ClamdAddress, connectTimeout: Duration, ioTimeout: Duration) throws(ClamdError) {
        switch address {
        case .unix(let path):
            fd = try Self.connectUnix(path: path)
        case .tcp(let host, let port):
            fd = try Self.connectTCP(host: host, port: port, timeout: connectTimeout)
        }
        var tv = timeval(tv_sec: Int(ioTimeout.components.seconds), tv_usec: Int(ioTimeout.components.attoseconds / 1_000_000_000_000))
        if tv.tv_sec == 0 && tv.tv_usec == 0 { tv.tv_usec = 1000 }
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit {
        close(fd)
    }

    /// Writes all of `bytes`. A peer that hung up (clamd stops reading past
    /// its StreamMaxLength) surfaces as `.unreachable` with `peerClosed`.
    func write(_ bytes: UnsafeRawBufferPointer) throws(ClamdError) {
        var offset = 0
        while offset < bytes.count {
            let n = send(fd, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            if n < 0 {
                let code = errno
                if code == EINTR { continue }
                if code == EAGAIN || code == EWOULDBLOCK { throw ClamdError(.timeout, "clamd stopped reading (send timed out)") }
                if code == EPIPE || code == ECONNRESET { throw ClamdError(.unreachable, Self.peerClosed) }
                throw ClamdError(.unreachable, "send to clamd: \(String(cString: strerror(code)))")
            }
            offset += n
        }
    }

    func write(_ data: Data) throws(ClamdError) {
        let result: Result<Void, ClamdError> = data.withUnsafeBytes { raw in
            do throws(ClamdError) { try write(raw); return .success(()) } catch { return .failure(error) }
        }
        try result.get()
    }

    static let peerClosed = "clamd closed the connection while the stream was being sent"

    /// Reads one NUL-terminated reply (the `z` command form), or up to EOF.
    func readReply(limit: Int = 64 << 10) throws(ClamdError) -> String {
        var reply: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while reply.count < limit {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 {
                let code = errno
                if code == EINTR { continue }
                if code == EAGAIN || code == EWOULDBLOCK { throw ClamdError(.timeout, "clamd did not answer in time") }
                if code == ECONNRESET, !reply.isEmpty { break }
                throw ClamdError(.unreachable, "reading clamd's reply: \(String(cString: strerror(code)))")
            }
            if n == 0 { break }
            if let nul = buffer[0..<n].firstIndex(of: 0) {
                reply += buffer[0..<nul]
                return String(decoding: reply, as: UTF8.self)
            }
            reply += buffer[0..<n]
        }
        guard !reply.isEmpty else { throw ClamdError(.unreachable, "clamd closed the connection without a reply") }
        return String(decoding: reply, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    // MARK: Connecting

    private static func connectUnix(path: String) throws(ClamdError) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ClamdError(.unreachable, "socket(): \(String(cString: strerror(errno)))") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in bytes.enumerated() where i < raw.count - 1 { raw[i] = byte }
        }
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if status != 0 {
            let code = errno
            close(fd)
            throw ClamdError(.unreachable, "connect to clamd at unix://\(path): \(String(cString: strerror(code)))")
        }
        return fd
    }

    private static func connectTCP(host: String, port: Int, timeout: Duration) throws(ClamdError) -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            throw ClamdError(.unreachable, "cannot resolve clamd host \(host): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(list) }
        var lastError = "no address"
        var candidate: UnsafeMutablePointer<addrinfo>? = first
        while let info = candidate {
            candidate = info.pointee.ai_next
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), info.pointee.ai_protocol)
            if fd < 0 { continue }
            let flags = fcntl(fd, F_GETFL, 0)
            _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
            var result = connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen)
            if result != 0 && errno == EINPROGRESS {
                var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                let ms = Int32(clamping: timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
                let ready = poll(&pfd, 1, max(1, ms))
                if ready == 0 {
                    close(fd)
                    throw ClamdError(.timeout, "connect to clamd at \(host):\(port) timed out")
                }
                var soError: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &length)
                result = soError == 0 && ready > 0 ? 0 : -1
                if soError != 0 { errno = soError }
            }
            if result == 0 {
                _ = fcntl(fd, F_SETFL, flags)
                var one: Int32 = 1
                setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                return fd
            }
            lastError = String(cString: strerror(errno))
            close(fd)
        }
        throw ClamdError(.unreachable, "connect to clamd at \(host):\(port): \(lastError)")
    }
}
