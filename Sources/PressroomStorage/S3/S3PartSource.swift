import Crypto
import Foundation
import PressroomHTTP

#if canImport(Glibc)
import Glibc
#endif

/// Where an object's bytes sit while they are uploaded: data already in
/// memory, or a file read by offset (`pread`) and never loaded whole. Parts
/// are hashed from here by range and each upload reads its own range, so
/// nothing holds a copy of the object or of a whole part.
enum S3PartSource: Sendable {
    typealias Range = (offset: Int64, length: Int64)

    case data(Data)
    case file(path: String)

    /// The request body for `range`: a slice sharing the data's storage, or
    /// the file range that curl reads itself.
    func body(_ range: Range) -> HTTPRequest.Body {
        switch self {
        case .data(let data):
            let start = data.startIndex + Int(range.offset)
            return .data(data[start..<(start + Int(range.length))])
        case .file(let path):
            return .file(path: path, offset: range.offset, length: range.length)
        }
    }

    /// SHA-256 of `range`. Blocking: call it on a ``BlockingThreadPool``.
    func digest(_ range: Range) throws -> SHA256Digest {
        var hasher = SHA256()
        switch self {
        case .data(let data):
            let start = data.startIndex + Int(range.offset)
            data[start..<(start + Int(range.length))].withUnsafeBytes { bytes in
                hasher.update(bufferPointer: bytes)
            }
        case .file(let path):
            try Self.read(path: path, range: range) { bytes in
                hasher.update(bufferPointer: bytes)
            }
        }
        return hasher.finalize()
    }

    /// Reads `range` of `path` through one reusable buffer.
    private static func read(path: String, range: Range, _ sink: (UnsafeRawBufferPointer) -> Void) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw ObjectStoreError(.io, "cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Int(min(max(range.length, 1), 1 << 20)), alignment: 16)
        defer { buffer.deallocate() }
        var done: Int64 = 0
        while done < range.length {
            let count = Int(min(Int64(buffer.count), range.length - done))
            let n = pread(fd, buffer.baseAddress!, count, off_t(range.offset + done))
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw ObjectStoreError(.io, "read \(path): \(String(cString: strerror(errno)))") }
            if n == 0 { throw ObjectStoreError(.io, "\(path) shrank while it was read for upload") }
            sink(UnsafeRawBufferPointer(rebasing: buffer[..<n]))
            done += Int64(n)
        }
    }
}
