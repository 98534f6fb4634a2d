#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A notification could not be delivered to systemd. Carries the failing
/// system call and `strerror` text.
public struct SystemdNotifyError: Error, CustomStringConvertible, Sendable {
    private enum Code: Sendable {
        case invalidSocketAddress
        case systemCall
    }

    private let code: Code
    /// What failed, with the OS message.
    public let message: String
    /// The `errno` of the failed call, 0 for address errors.
    public let errno: Int32

    /// A full socket buffer (EAGAIN) or a manager restarting (ECONNREFUSED)
    /// can pass; a malformed `$NOTIFY_SOCKET` cannot.
    public var isTransient: Bool {
        code == .systemCall && Self.transientErrnos.contains(errno)
    }

    public var description: String { message }

    static let transientErrnos: Set<Int32> = [EAGAIN, EWOULDBLOCK, ECONNREFUSED, ENOBUFS, EINTR]

    /// `$NOTIFY_SOCKET` is neither an absolute path nor an `@abstract` name, or is too long.
    public static func invalidSocketAddress(_ address: String) -> SystemdNotifyError {
        SystemdNotifyError(
            code: .invalidSocketAddress,
            message: "NOTIFY_SOCKET '\(address)' is not an absolute path or @abstract socket name of at most 107 bytes",
            errno: 0
        )
    }

    static func systemCall(_ name: String, errno: Int32, socket: String) -> SystemdNotifyError {
        SystemdNotifyError(
            code: .systemCall,
            message: "sd_notify \(name) on \(socket) failed: \(String(cString: strerror(errno)))",
            errno: errno
        )
    }
}
