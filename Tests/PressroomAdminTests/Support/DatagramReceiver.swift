import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A real AF_UNIX datagram socket standing in for systemd's notify socket.
/// Owns its descriptor (and socket file) and releases them in deinit.
final class DatagramReceiver {
    /// What to put in `NOTIFY_SOCKET`: a path, or `@name` for the abstract namespace.
    let address: String
    private let fd: Int32
    private let path: String?

    /// Binds a socket file inside a fresh temp directory.
    static func filesystem() throws -> DatagramReceiver {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pressroom-notify-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return try DatagramReceiver(address: dir.appendingPathComponent("notify.sock").path)
    }

    /// Binds a unique name in the abstract namespace.
    static func abstract() throws -> DatagramReceiver {
        try DatagramReceiver(address: "@pressroom-test-\(UUID().uuidString)")
    }

    private init(address: String) throws {
        self.address = address
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.init(rawValue: errno)!) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(address.utf8)
        let abstract = bytes.first == UInt8(ascii: "@")
        if abstract { bytes[0] = 0 }
        withUnsafeMutableBytes(of: &addr.sun_path) { $0.copyBytes(from: bytes) }
        let length = MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path)! + bytes.count + (abstract ? 0 : 1)
        path = abstract ? nil : address
        let result = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(length)) }
        }
        guard result == 0 else {
            let code = errno
            close(fd)
            throw POSIXError(.init(rawValue: code)!)
        }
    }

    deinit {
        close(fd)
        if let path {
            unlink(path)
            rmdir((path as NSString).deletingLastPathComponent)
        }
    }

    /// The next datagram, waiting up to `timeoutMilliseconds`; nil if none came.
    func receive(timeoutMilliseconds: Int32 = 5_000) -> String? {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, timeoutMilliseconds) == 1 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = recv(fd, &buffer, buffer.count, 0)
        guard count >= 0 else { return nil }
        return String(decoding: buffer[0..<count], as: UTF8.self)
    }

    /// Everything already queued, without waiting.
    func drain() -> [String] {
        var messages: [String] = []
        while let message = receive(timeoutMilliseconds: 0) {
            messages.append(message)
        }
        return messages
    }
}
