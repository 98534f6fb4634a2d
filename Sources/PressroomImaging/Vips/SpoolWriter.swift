import CVips
import CVipsShims
import Crypto
import Foundation

/// Encodes an image straight into a new file, hashing the bytes as the encoder hands them
/// over: a print master of hundreds of megabytes is never held in memory whole.
enum SpoolWriter {
    /// The SHA-256 state the C write callback feeds. libvips writes one buffer at a time, in
    /// order, so the state is never touched by two threads at once.
    private final class Digest: @unchecked Sendable {
        var hasher = SHA256()
    }

    static let prefix = "pressroom-master-"

    /// Deletes spool files (and spooled sources) older than `age` in `directory`: what a process
    /// killed mid-render left behind (a live render's file is younger than its
    /// timeout). Returns how many it removed.
    static func removeStale(in directory: URL, olderThan age: TimeInterval) -> Int {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        let cutoff = Date().addingTimeInterval(-age)
        var removed = 0
        for name in names where name.hasPrefix(prefix) || name.hasPrefix(Imaging.sourceSpoolPrefix) {
            let path = directory.appendingPathComponent(name).path
            guard let modified = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date,
                  modified < cutoff, unlink(path) == 0 else { continue }
            removed += 1
        }
        return removed
    }

    /// Writes `image` as `format` into a new file in `directory`. The file is removed again when
    /// encoding fails or is cancelled; on success the caller owns it.
    static func write(_ image: VipsImage, as format: OutputFormat, into directory: URL) throws(ImagingError) -> (file: URL, byteCount: Int, sha256: String) {
        let file = directory.appendingPathComponent("\(prefix)\(UUID().uuidString).\(format.fileExtension)")
        let fd = open(file.path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw ImagingError(.internal, "cannot create a spool file in \(directory.path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var kept = false
        defer { if !kept { unlink(file.path) } }

        let digest = Unmanaged.passRetained(Digest())
        defer { digest.release() }
        let feed: pressroom_digest_fn = { context, data, length in
            guard let context, let data else { return }
            Unmanaged<Digest>.fromOpaque(context).takeUnretainedValue().hasher.update(bufferPointer: UnsafeRawBufferPointer(start: data, count: length))
        }
        guard let target = pressroom_spool_target_new(fd, feed, digest.toOpaque()) else {
            throw VipsError.take(.internal, "cannot make a spool target")
        }
        defer { g_object_unref(UnsafeMutableRawPointer(target)) }
        try image.write(format, to: target, streaming: true)
        let byteCount = Int(pressroom_spool_target_length(target))
        // libtiff patches its header after the directory: then the file is hashed once more, from the page cache.
        let sha256 = pressroom_spool_target_rewrote(target) != 0
            ? try hashFile(fd, file: file)
            : SHA256Hex.hex(digest.takeUnretainedValue().hasher.finalize())
        kept = true
        return (file, byteCount, sha256)
    }

    /// The SHA-256 of a file, read a block at a time.
    static func hash(file: URL) throws(ImagingError) -> String {
        let fd = open(file.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw ImagingError(.internal, "cannot open \(file.path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        return try hashFile(fd, file: file)
    }

    private static func hashFile(_ fd: Int32, file: URL) throws(ImagingError) -> String {
        var hasher = SHA256()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var offset: off_t = 0
        while true {
            let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, offset) }
            if count < 0 {
                if errno == EINTR { continue }
                throw ImagingError(.internal, "cannot read back \(file.lastPathComponent): \(String(cString: strerror(errno)))")
            }
            if count == 0 { break }
            buffer.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0.prefix(count))) }
            offset += off_t(count)
        }
        return SHA256Hex.hex(hasher.finalize())
    }
}
