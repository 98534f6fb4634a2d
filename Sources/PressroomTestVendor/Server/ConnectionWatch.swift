import Foundation
import PressroomSupport
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Tells whether a client is still connected, for `hang-after-accept`:
/// FlyingFox gives a handler no socket, so the kernel's table of TCP
/// connections (`/proc/net/tcp`, `/proc/net/tcp6`) is read instead. Our end
/// of a connection whose client hung up is in CLOSE_WAIT (or gone).
final class ConnectionWatch: Sendable {
    enum Outcome: Sendable {
        case held
        case clientHungUp
    }

    /// The port the server listens on, known once it is bound (port 0 picks one).
    let listeningPort = Mutex<UInt16>(0)
    private let reader = BlockingThreadPool(name: "test-vendor-proc", threads: 1)
    static let pollInterval: Duration = .milliseconds(25)

    deinit {
        reader.shutdown()
    }

    /// Waits `duration`, or less if the client with `remotePort` disconnects first.
    func hold(remotePort: UInt16?, for duration: Duration) async -> Outcome {
        let deadline = ContinuousClock.now + duration
        let local = listeningPort.withLock { $0 }
        while ContinuousClock.now < deadline {
            if let remotePort, local != 0, await isOpen(localPort: local, remotePort: remotePort) == false {
                return .clientHungUp
            }
            let left = deadline - ContinuousClock.now
            try? await Task.sleep(for: min(left, Self.pollInterval))
        }
        return .held
    }

    /// `nil` when the table cannot be read (not Linux): the caller then holds the full time.
    private func isOpen(localPort: UInt16, remotePort: UInt16) async -> Bool? {
        try? await reader.run {
            var readable = false
            for path in ["/proc/net/tcp", "/proc/net/tcp6"] {
                guard let table = Self.readAll(path) else { continue }
                readable = true
                // An old connection with the same ports may linger in TIME_WAIT.
                if Self.states(in: table, localPort: localPort, remotePort: remotePort).contains("01") {  // ESTABLISHED
                    return true
                }
            }
            return readable ? false : nil
        } ?? nil
    }

    /// procfs files report size 0, and a read that trusts it stops after the
    /// first page: read until EOF.
    static func readAll(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            data.append(contentsOf: buffer[0..<count])
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// The `st` column of every line for local:localPort ↔ remote:remotePort.
    static func states(in table: String, localPort: UInt16, remotePort: UInt16) -> [Substring] {
        let local = String(format: ":%04X", localPort)
        let remote = String(format: ":%04X", remotePort)
        return table.split(separator: "\n").dropFirst().compactMap { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count > 3, fields[1].hasSuffix(local), fields[2].hasSuffix(remote) else { return nil }
            return fields[3]
        }
    }
}
