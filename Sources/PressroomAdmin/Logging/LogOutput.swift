#if canImport(Glibc)
import Glibc
private let systemWrite = Glibc.write
#elseif canImport(Darwin)
import Darwin
private let systemWrite = Darwin.write
#endif

/// Where a log handler writes its lines.
///
/// Each line goes out in a single `write(2)`, so lines from concurrent tasks
/// never interleave (journald and pipes see whole lines).
public struct LogOutput: Sendable {
    private let sink: @Sendable ([UInt8]) -> Void

    /// Receives each complete line, newline included.
    public init(_ sink: @escaping @Sendable ([UInt8]) -> Void) {
        self.sink = sink
    }

    /// Standard error: the default, what systemd sends to the journal.
    public static let standardError = LogOutput.fileDescriptor(2)
    public static let standardOutput = LogOutput.fileDescriptor(1)

    /// Writes to an open file descriptor the caller owns.
    public static func fileDescriptor(_ fd: Int32) -> LogOutput {
        LogOutput { bytes in
            bytes.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let written = systemWrite(fd, buffer.baseAddress! + offset, buffer.count - offset)
                    if written < 0 {
                        if errno == EINTR { continue }
                        return  // Nowhere left to report a failing log stream.
                    }
                    offset += written
                }
            }
        }
    }

    func write(_ line: [UInt8]) {
        sink(line)
    }
}
