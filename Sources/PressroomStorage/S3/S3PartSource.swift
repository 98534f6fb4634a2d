import CZlib
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

    /// SHA-256 of `range`. Blocking, like every pass here: call it on a
    /// ``BlockingThreadPool``.
    func digest(_ range: Range) throws -> SHA256Digest {
        var hasher = SHA256()
        try scan(range) { hasher.update(bufferPointer: $0) }
        return hasher.finalize()
    }

    /// Both checksums of a part, from one read of it.
    func checksums(_ range: Range) throws -> S3PartChecksums {
        var hasher = SHA256()
        var crc = CZlib.crc32(0, nil, 0)
        try scan(range) { bytes in
            hasher.update(bufferPointer: bytes)
            crc = Self.crc32(crc, bytes)
        }
        return S3PartChecksums(sha256: Data(hasher.finalize()), crc32: UInt32(crc))
    }

    private static func crc32(_ crc: uLong, _ bytes: UnsafeRawBufferPointer) -> uLong {
        CZlib.crc32(crc, bytes.baseAddress?.assumingMemoryBound(to: Bytef.self), uInt(bytes.count))
    }

    /// Bytes per read and per checksum update: small enough to stay in L2
    /// between `pread` and the hash (1 MiB made the pass about a quarter
    /// slower), and within zlib's 32-bit lengths.
    private static let chunk = 256 << 10

    /// Feeds `range` to `sink` in pieces of at most ``chunk`` bytes.
    private func scan(_ range: Range, _ sink: (UnsafeRawBufferPointer) -> Void) throws {
        switch self {
        case .data(let data):
            let start = data.startIndex + Int(range.offset)
            data[start..<(start + Int(range.length))].withUnsafeBytes { bytes in
                var offset = 0
                while offset < bytes.count {
                    let end = min(offset + Self.chunk, bytes.count)
                    sink(UnsafeRawBufferPointer(rebasing: bytes[offset..<end]))
                    offset = end
                }
            }
        case .file(let path):
            try Self.read(path: path, range: range, sink)
        }
    }

    /// Reads `range` of `path` through one reusable buffer.
    private static func read(path: String, range: Range, _ sink: (UnsafeRawBufferPointer) -> Void) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw ObjectStoreError(.io, "cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Int(min(max(range.length, 1), Int64(chunk))), alignment: 16)
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

/// What a part is sent with: its SHA-256 signs the payload, and its CRC-32
/// is S3's part checksum (`x-amz-checksum-crc32`, as boto3 sends), checked
/// by S3 and combined into the object's composite checksum.
struct S3PartChecksums: Sendable {
    var sha256: Data
    var crc32: UInt32

    var crc32Base64: String { withUnsafeBytes(of: crc32.bigEndian) { Data($0) }.base64EncodedString() }
}
