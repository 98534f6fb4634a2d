import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A bare TCP connection that sends one HTTP request and can hang up at a
/// moment the test chooses (libcurl can only hang up on a timeout).
final class RawConnection {
    private var fd: Int32

    init(url: String, method: String, path: String, headers: [(String, String)], body: Data) throws {
        guard let parsed = URL(string: url) else { throw POSIXError(.EINVAL) }
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(parsed.port ?? 80).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: \(body.count)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        let bytes = Data((head + "\r\n").utf8) + body
        let written = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard written == bytes.count else { throw POSIXError(.EPIPE) }
    }

    func hangUp() {
        if fd >= 0 { close(fd) }
        fd = -1
    }

    deinit {
        hangUp()
    }
}
