import Foundation
import PressroomSupport
#if canImport(Glibc)
import Glibc
#endif

/// A client for clamd's socket protocol: `PING`, `VERSION` and `INSTREAM`.
///
/// `INSTREAM` sends the bytes in chunks (a 4-byte big-endian length, then the
/// chunk; a zero length ends the stream), so nothing has to be on a disk
/// clamd can read. clamd closes a stream longer than its `StreamMaxLength`
/// and, worse, *clamdscan truncates* to that length and reports the head as
/// clean: this client refuses any stream longer than `streamMaxLength`
/// before sending a byte, so a verdict always covers the whole object.
///
/// Blocking socket calls run on a thread pool of their own.
public final class ClamdClient: Sendable {
    public struct Options: Sendable, Equatable {
        public var address: ClamdAddress
        public var connectTimeout: Duration
        /// Longest wait for one read or write, including clamd's scan of the whole stream.
        public var ioTimeout: Duration
        /// Bytes per INSTREAM chunk.
        public var chunkBytes: Int
        /// Longest stream sent; keep it at or below clamd's `StreamMaxLength`.
        public var streamMaxLength: Int64
        /// Scans at once (threads holding a clamd connection).
        public var connections: Int

        public init(address: ClamdAddress, connectTimeout: Duration = .seconds(2), ioTimeout: Duration = .seconds(60),
                    chunkBytes: Int = 256 << 10, streamMaxLength: Int64 = 25 << 20, connections: Int = 4) {
            self.address = address
            self.connectTimeout = connectTimeout
            self.ioTimeout = ioTimeout
            self.chunkBytes = chunkBytes
            self.streamMaxLength = streamMaxLength
            self.connections = connections
        }
    }

    public let options: Options
    private let pool: BlockingThreadPool

    public init(options: Options) {
        precondition(options.chunkBytes > 0 && options.chunkBytes <= Int(UInt32.max))
        self.options = options
        self.pool = BlockingThreadPool(name: "pressroom-clamd", threads: max(1, options.connections))
    }

    deinit {
        pool.shutdown()
    }

    /// `PING` → `PONG`: clamd is up and answering.
    public func ping() async throws {
        let reply = try await command("zPING\0")
        guard reply == "PONG" else { throw ClamdError(.protocolError, "clamd answered PING with '\(reply.prefix(100))'") }
    }

    /// `VERSION`, e.g. `ClamAV 1.4.6/27500/Mon Jan  5 09:00:00 2026` (engine/database version/date).
    public func version() async throws -> String {
        try await command("zVERSION\0")
    }

    /// Scans bytes already in memory.
    public func scan(_ data: Data) async throws -> ScanVerdict {
        let options = self.options
        guard Int64(data.count) <= options.streamMaxLength else { throw Self.tooLarge(Int64(data.count), options.streamMaxLength) }
        return try await pool.run {
            var offset = 0
            return try Self.instream(options) { buffer in
                let n = min(buffer.count, data.count - offset)
                if n > 0 {
                    data.copyBytes(to: buffer.bindMemory(to: UInt8.self).baseAddress!, from: offset..<(offset + n))
                    offset += n
                }
                return n
            }
        }
    }

    /// Scans a file without loading it: read and sent one chunk at a time.
    public func scan(file: URL) async throws -> ScanVerdict {
        let options = self.options
        let path = file.path
        return try await pool.run {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw ClamdError(.io, "open \(path): \(String(cString: strerror(errno)))") }
            defer { close(fd) }
            var st = stat()
            guard fstat(fd, &st) == 0 else { throw ClamdError(.io, "stat \(path): \(String(cString: strerror(errno)))") }
            guard Int64(st.st_size) <= options.streamMaxLength else { throw Self.tooLarge(Int64(st.st_size), options.streamMaxLength) }
            return try Self.instream(options) { buffer in
                while true {
                    let n = read(fd, buffer.baseAddress, buffer.count)
                    if n >= 0 { return n }
                    if errno != EINTR { throw ClamdError(.io, "read \(path): \(String(cString: strerror(errno)))") }
                }
            }
        }
    }

    private static func tooLarge(_ size: Int64, _ limit: Int64) -> ClamdError {
        ClamdError(.tooLarge, "\(size) bytes is more than the \(limit) bytes clamd is allowed to scan (scan.streamMaxLength); refusing rather than scanning only the head")
    }

    private func command(_ text: String) async throws -> String {
        let options = self.options
        return try await pool.run {
            let connection = try ClamdConnection(address: options.address, connectTimeout: options.connectTimeout, ioTimeout: options.ioTimeout)
            try connection.write(Data(text.utf8))
            return try connection.readReply()
        }
    }

    /// Runs one INSTREAM on the calling (pool) thread. `fill` copies the next
    /// bytes into the buffer and returns how many (0 at the end).
    private static func instream(_ options: Options, fill: (UnsafeMutableRawBufferPointer) throws -> Int) throws -> ScanVerdict {
        let connection = try ClamdConnection(address: options.address, connectTimeout: options.connectTimeout, ioTimeout: options.ioTimeout)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4 + options.chunkBytes, alignment: 16)
        defer { buffer.deallocate() }
        var sent: Int64 = 0
        do {
            try connection.write(Data("zINSTREAM\0".utf8))
            while true {
                let n = try fill(UnsafeMutableRawBufferPointer(rebasing: buffer[4...]))
                if n == 0 { break }
                sent += Int64(n)
                // The file grew while being read: refuse rather than send a truncated stream.
                if sent > options.streamMaxLength { throw tooLarge(sent, options.streamMaxLength) }
                buffer.storeBytes(of: UInt32(n).bigEndian, toByteOffset: 0, as: UInt32.self)
                try connection.write(UnsafeRawBufferPointer(rebasing: buffer[0..<(4 + n)]))
            }
            var end = UInt32(0)
            try withUnsafeBytes(of: &end) { raw throws(ClamdError) in try connection.write(raw) }
        } catch let error as ClamdError where error.message == ClamdConnection.peerClosed {
            // clamd hung up mid-stream; its reply (if any) says why.
            if let reply = try? connection.readReply() { return try verdict(reply, sent: sent, options: options) }
            throw error
        }
        return try verdict(try connection.readReply(), sent: sent, options: options)
    }

    /// `stream: OK`, `stream: <signature> FOUND`, or `<problem> ERROR`.
    static func verdict(_ reply: String, sent: Int64, options: Options) throws -> ScanVerdict {
        if reply.hasSuffix("ERROR") {
            if reply.contains("size limit exceeded") {
                throw ClamdError(.tooLarge, "clamd refused the stream after \(sent) bytes as longer than its StreamMaxLength; raise StreamMaxLength in clamd.conf to at least scan.streamMaxLength (\(options.streamMaxLength))")
            }
            throw ClamdError(.scanError, "clamd could not scan the stream: \(reply.prefix(200))")
        }
        guard let colon = reply.firstIndex(of: ":") else {
            throw ClamdError(.protocolError, "unexpected clamd reply '\(reply.prefix(200))'")
        }
        let status = reply[reply.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        if status == "OK" { return .clean }
        if status.hasSuffix(" FOUND") {
            let signature = String(status.dropLast(" FOUND".count)).trimmingCharacters(in: .whitespaces)
            return .infected(signature: signature.isEmpty ? "unknown" : signature)
        }
        throw ClamdError(.protocolError, "unexpected clamd reply '\(reply.prefix(200))'")
    }
}
