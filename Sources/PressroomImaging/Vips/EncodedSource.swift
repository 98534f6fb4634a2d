import CVips
import CVipsShims
import Foundation

/// The encoded image a pipeline call reads: bytes in memory (an upload already downloaded), or
/// a file (a render job's spooled source, never read into memory whole). Both are opened
/// through libvips' source API, so the probe, the decodes and the render are the same steps.
public enum EncodedSource: Sendable {
    case bytes(Data)
    case file(URL)
}

/// An ``EncodedSource`` opened for one pipeline call: the caller's bytes (borrowed, or a copy)
/// or a file, with its descriptor for the probe's checks. The checks read it directly (size,
/// leading bytes, the JPEG's end); every decode gets a libvips source of its own over it
/// (``makeVipsSource()``), so two decodes alive at once never share a read position. Images
/// opened from it hold it, which keeps borrowed bytes alive while libvips reads them.
final class EncodedInput: @unchecked Sendable {
    private enum Storage {
        /// `owned`: the allocation is this object's, not a caller's buffer.
        case memory(UnsafeRawBufferPointer, owned: Bool)
        case file(path: String, descriptor: Int32)
    }

    private let storage: Storage
    /// The encoded length in bytes.
    let byteCount: Int

    /// A copy of `data`, for images that may outlive the caller's bytes.
    init(_ data: Data) {
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: max(data.count, 1), alignment: 16)
        _ = data.copyBytes(to: copy.bindMemory(to: UInt8.self))
        storage = .memory(UnsafeRawBufferPointer(copy), owned: true)
        byteCount = data.count
    }

    private init(borrowing bytes: UnsafeRawBufferPointer) {
        storage = .memory(bytes, owned: false)
        byteCount = bytes.count
    }

    private init(file: URL) throws(ImagingError) {
        let path = file.path
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw ImagingError(.internal, "cannot open source file \(path): \(String(cString: strerror(errno)))")
        }
        var status = stat()
        guard fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else {
            close(descriptor)
            throw ImagingError(.internal, "source \(path) is not a regular file")
        }
        storage = .file(path: path, descriptor: descriptor)
        byteCount = Int(status.st_size)
    }

    deinit {
        switch storage {
        case .memory(let pointer, let owned): if owned { pointer.deallocate() }
        case .file(_, let descriptor): close(descriptor)
        }
    }

    /// Runs `body` over `source` opened for libvips: bytes are the caller's own rather than a
    /// copy (a master's source is tens of megabytes, and a copy of it was part of every render's
    /// peak memory), a file is read where it lies. Every image opened from it must be gone when
    /// `body` returns (pixels it needs later are `materialized()`, which holds no reference to
    /// the source); debug builds check it.
    static func opening<T>(_ source: EncodedSource, _ body: (EncodedInput) throws(ImagingError) -> T) throws(ImagingError) -> T {
        func run(_ make: () throws(ImagingError) -> EncodedInput) -> Result<T, ImagingError> {
            do throws(ImagingError) {
                var input = try make()
                let result: Result<T, ImagingError>
                do throws(ImagingError) {
                    result = .success(try body(input))
                } catch {
                    result = .failure(error)
                }
                assert(isKnownUniquelyReferenced(&input), "an image outlived the source it reads")
                return result
            } catch {
                return .failure(error)
            }
        }
        switch source {
        case .file(let url):
            return try run { () throws(ImagingError) in try EncodedInput(file: url) }.get()
        case .bytes(let data) where data.isEmpty:
            return try run { EncodedInput(data) }.get()
        case .bytes(let data):
            return try data.withUnsafeBytes { raw in run { EncodedInput(borrowing: raw) } }.get()
        }
    }

    /// A new libvips source over the bytes or the file, for one decode.
    func makeVipsSource() throws(ImagingError) -> VipsSource {
        try Imaging.startVips()
        let pointer: UnsafeMutablePointer<CVips.VipsSource>?
        switch storage {
        case .memory(let bytes, _): pointer = vips_source_new_from_memory(bytes.baseAddress, byteCount)
        case .file(let path, _): pointer = vips_source_new_from_file(path)
        }
        guard let pointer else { throw VipsError.take(.internal, "cannot open the encoded source") }
        return VipsSource(pointer)
    }

    /// Runs `body` over bytes `range` of the source: in place for memory, read into a buffer
    /// from a file (so checks over a whole file hold one block of it at a time).
    func withBytes<T>(in range: Range<Int>, _ body: (UnsafeRawBufferPointer) -> T) throws(ImagingError) -> T {
        precondition(range.lowerBound >= 0 && range.upperBound <= byteCount)
        switch storage {
        case .memory(let bytes, _):
            return body(UnsafeRawBufferPointer(rebasing: bytes[range]))
        case .file(let path, let descriptor):
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(range.count, 1), alignment: 16)
            defer { buffer.deallocate() }
            var done = 0
            while done < range.count {
                let n = pread(descriptor, buffer.baseAddress! + done, range.count - done, off_t(range.lowerBound + done))
                if n < 0, errno == EINTR { continue }
                guard n > 0 else {
                    throw ImagingError(.internal, n == 0 ? "source file \(path) shrank while it was read"
                                                         : "cannot read source file \(path): \(String(cString: strerror(errno)))")
                }
                done += n
            }
            return body(UnsafeRawBufferPointer(rebasing: buffer[0..<range.count]))
        }
    }

    /// The first `count` bytes (fewer when the source is shorter).
    func prefix(_ count: Int) throws(ImagingError) -> Data {
        try withBytes(in: 0..<min(count, byteCount)) { Data($0) }
    }
}

/// Owns one reference to a libvips source and releases it exactly once. An image opened from
/// it holds a reference of its own, so this may go as soon as the image is open.
final class VipsSource: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<CVips.VipsSource>

    init(_ pointer: UnsafeMutablePointer<CVips.VipsSource>) {
        self.pointer = pointer
    }

    deinit {
        g_object_unref(UnsafeMutableRawPointer(pointer))
    }

    /// libvips' loader for the content (sniffed from its bytes), nil when none would take it.
    var loaderName: String? {
        let name = vips_foreign_find_load_source(pointer).map { String(cString: $0) }
        vips_error_clear()
        return name
    }
}
