import CCurlShims
import Crypto
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Per-request state the C callbacks reach through their `userdata` pointer.
/// Lives on the stack of ``CurlEasyHandle/perform(_:options:)`` and only on
/// the thread running that transfer, so it needs no locking.
final class CurlTransfer {
    let request: HTTPRequest
    var status = 0
    var headers: [String: String] = [:]
    var body = Data()
    var bodyLength: Int64 = 0
    var hasher: SHA256?
    /// Position in the request body (rewound by the seek callback on retries inside curl).
    var readOffset: Int64 = 0
    var inputFD: Int32 = -1
    var outputFD: Int32 = -1
    var localError: String?
    var localErrorCode: HTTPClientError.Code = .io

    /// Error bodies are small XML documents; never buffer more than this.
    static let maxErrorBody = 1 << 20

    init(request: HTTPRequest) {
        self.request = request
        if request.hashResponse { hasher = SHA256() }
    }

    deinit {
        if inputFD >= 0 { close(inputFD) }
        if outputFD >= 0 { close(outputFD) }
    }

    func openFiles() throws {
        if case .file(let path, _, _) = request.body {
            inputFD = open(path, O_RDONLY | O_CLOEXEC)
            if inputFD < 0 { throw HTTPClientError(.io, "open \(path): \(String(cString: strerror(errno)))") }
        }
    }

    // MARK: Callbacks

    /// Header lines are ASCII: trimmed and split as bytes, because Foundation's
    /// `trimmingCharacters` bridges every line through NSString.
    func onHeader(_ line: UnsafeBufferPointer<UInt8>) {
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A }
        var start = line.startIndex, end = line.endIndex
        while start < end, isSpace(line[start]) { start += 1 }
        while end > start, isSpace(line[end - 1]) { end -= 1 }
        let text = line[start..<end]
        if text.starts(with: "HTTP/".utf8) {
            // A new response (after `100 Continue`): start over.
            let parts = text.split(separator: 0x20, maxSplits: 2)
            status = parts.count > 1 ? Int(String(decoding: parts[1], as: UTF8.self)) ?? 0 : 0
            headers = [:]
            return
        }
        guard let colon = text.firstIndex(of: UInt8(ascii: ":")) else { return }
        var valueStart = colon + 1
        while valueStart < end, isSpace(line[valueStart]) { valueStart += 1 }
        headers[String(decoding: text[..<colon], as: UTF8.self).lowercased()] = String(decoding: line[valueStart..<end], as: UTF8.self)
    }

    func onData(_ chunk: UnsafeRawBufferPointer) -> Bool {
        bodyLength += Int64(chunk.count)
        if let limit = request.maxResponseBytes, bodyLength > Int64(limit) {
            localError = "response body exceeds \(limit) bytes"
            localErrorCode = .responseTooLarge
            return false
        }
        let success = (200..<300).contains(status)
        if success, case .file(let path) = request.sink {
            if outputFD < 0 {
                outputFD = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
                if outputFD < 0 {
                    localError = "open \(path): \(String(cString: strerror(errno)))"
                    return false
                }
            }
            var offset = 0
            while offset < chunk.count {
                let n = write(outputFD, chunk.baseAddress! + offset, chunk.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    localError = "write \(path): \(String(cString: strerror(errno)))"
                    return false
                }
                offset += n
            }
        } else if success || body.count < Self.maxErrorBody {
            body.append(contentsOf: chunk)
        }
        if success { hasher?.update(bufferPointer: chunk) }
        return true
    }

    /// Fills `buffer` from the request body; returns the byte count (0 at the end).
    func onRead(_ buffer: UnsafeMutableRawBufferPointer) -> Int? {
        let remaining = request.body.length - readOffset
        let count = Int(min(Int64(buffer.count), max(0, remaining)))
        if count == 0 { return 0 }
        switch request.body {
        case .none:
            return 0
        case .data(let data):
            data.withUnsafeBytes { raw in
                buffer.baseAddress!.copyMemory(from: raw.baseAddress! + Int(readOffset), byteCount: count)
            }
        case .file(let path, let start, _):
            var done = 0
            while done < count {
                let n = pread(inputFD, buffer.baseAddress! + done, count - done, off_t(start + readOffset) + off_t(done))
                if n < 0 && errno == EINTR { continue }
                if n <= 0 {
                    localError = n == 0 ? "\(path) shrank while uploading" : "read \(path): \(String(cString: strerror(errno)))"
                    return nil
                }
                done += n
            }
        }
        readOffset += Int64(count)
        return count
    }

    func onSeek(offset: Int64, origin: Int32) -> Bool {
        // A rewind means libcurl is about to send the body again (its retry
        // after a dead reused connection): refused when the caller says so.
        guard request.allowsResend, origin == SEEK_SET, offset >= 0, offset <= request.body.length else { return false }
        readOffset = offset
        return true
    }

    // MARK: C entry points

    static let headerCallback: pressroom_curl_data_callback = { buffer, size, count, userdata in
        let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata!).takeUnretainedValue()
        let length = size * count
        buffer!.withMemoryRebound(to: UInt8.self, capacity: length) {
            transfer.onHeader(UnsafeBufferPointer(start: $0, count: length))
        }
        return length
    }

    static let writeCallback: pressroom_curl_data_callback = { buffer, size, count, userdata in
        let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata!).takeUnretainedValue()
        let length = size * count
        return transfer.onData(UnsafeRawBufferPointer(start: buffer, count: length)) ? length : 0
    }

    static let readCallback: pressroom_curl_data_callback = { buffer, size, count, userdata in
        let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata!).takeUnretainedValue()
        let result = transfer.onRead(UnsafeMutableRawBufferPointer(start: buffer, count: size * count))
        return result ?? pressroom_curl_readfunc_abort()
    }

    static let seekCallback: pressroom_curl_seek_callback = { userdata, offset, origin in
        let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata!).takeUnretainedValue()
        return transfer.onSeek(offset: Int64(offset), origin: origin) ? pressroom_curl_seekfunc_ok() : pressroom_curl_seekfunc_fail()
    }
}
