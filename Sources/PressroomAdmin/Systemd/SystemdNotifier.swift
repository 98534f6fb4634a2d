#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// The sd_notify datagram protocol, in Swift: newline-separated `KEY=value`
/// assignments sent as one AF_UNIX datagram to `$NOTIFY_SOCKET`.
///
/// Outside systemd (no `NOTIFY_SOCKET`) every call is a no-op, so the daemon
/// calls it unconditionally. Sends never block: the socket is non-blocking,
/// and a full receive queue surfaces as a transient error rather than
/// stalling the caller's thread.
public struct SystemdNotifier: Sendable {
    /// The socket address from `$NOTIFY_SOCKET` (`/path` or `@abstract`), or
    /// `nil` when not running under a `Type=notify` unit.
    public let socketAddress: String?

    /// Reads `NOTIFY_SOCKET` from `environment` (the process environment by default).
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        let value = environment["NOTIFY_SOCKET"]
        self.init(socketAddress: value?.isEmpty == true ? nil : value)
    }

    /// Sends to `socketAddress`; `nil` disables notifications.
    public init(socketAddress: String?) {
        self.socketAddress = socketAddress
    }

    /// Whether notifications go anywhere.
    public var isEnabled: Bool { socketAddress != nil }

    /// READY=1: start-up is complete (Redis reachable, consumer groups exist).
    public func ready(status: String? = nil) throws(SystemdNotifyError) {
        try send(["READY=1"] + (status.map { ["STATUS=\(Self.singleLine($0))"] } ?? []))
    }

    /// STOPPING=1: the drain has begun; systemd shows the unit as deactivating.
    public func stopping(status: String? = nil) throws(SystemdNotifyError) {
        try send(["STOPPING=1"] + (status.map { ["STATUS=\(Self.singleLine($0))"] } ?? []))
    }

    /// RELOADING=1 with the monotonic timestamp systemd ≥ 253 requires; send
    /// ``ready(status:)`` when the reload is done.
    public func reloading() throws(SystemdNotifyError) {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let usec = UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1_000
        try send(["RELOADING=1", "MONOTONIC_USEC=\(usec)"])
    }

    /// STATUS=…: a one-line status shown by `systemctl status` (newlines become spaces).
    public func status(_ text: String) throws(SystemdNotifyError) {
        try send(["STATUS=\(Self.singleLine(text))"])
    }

    /// WATCHDOG=1: the keep-alive ping (see ``WatchdogService``).
    public func watchdog() throws(SystemdNotifyError) {
        try send(["WATCHDOG=1"])
    }

    /// Sends the assignments as one datagram, one per line.
    public func send(_ assignments: [String]) throws(SystemdNotifyError) {
        guard let socketAddress else { return }
        let message = assignments.joined(separator: "\n")
        var address = try Self.makeAddress(socketAddress)

        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else {
            throw .systemCall("socket", errno: errno, socket: socketAddress)
        }
        defer { close(fd) }

        let sent = message.utf8CString.withUnsafeBufferPointer { bytes in
            withUnsafePointer(to: &address.storage) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sockaddrPointer in
                    // utf8CString carries a NUL terminator that is not part of the message.
                    sendto(fd, bytes.baseAddress, bytes.count - 1, Int32(MSG_NOSIGNAL), sockaddrPointer, address.length)
                }
            }
        }
        guard sent >= 0 else {
            throw .systemCall("sendto", errno: errno, socket: socketAddress)
        }
    }

    /// `STATUS=` ends at a newline in the protocol.
    private static func singleLine(_ text: String) -> String {
        text.replacingOccurrences(of: "\n", with: " ")
    }

    /// Builds the `sockaddr_un`: a leading `@` names an abstract socket, whose
    /// name starts with a NUL byte and whose length excludes any terminator.
    private static func makeAddress(_ text: String) throws(SystemdNotifyError) -> (storage: sockaddr_un, length: socklen_t) {
        var path = Array(text.utf8)
        let abstract = path.first == UInt8(ascii: "@")
        guard abstract || path.first == UInt8(ascii: "/") else {
            throw .invalidSocketAddress(text)
        }
        if abstract { path[0] = 0 }
        var storage = sockaddr_un()
        storage.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: storage.sun_path)
        // Filesystem paths need room for their NUL terminator.
        guard path.count + (abstract ? 0 : 1) <= capacity, path.count > 1 else {
            throw .invalidSocketAddress(text)
        }
        withUnsafeMutableBytes(of: &storage.sun_path) { buffer in
            buffer.copyBytes(from: path)
        }
        let offset = MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path)!
        let length = offset + path.count + (abstract ? 0 : 1)
        return (storage, socklen_t(length))
    }
}
