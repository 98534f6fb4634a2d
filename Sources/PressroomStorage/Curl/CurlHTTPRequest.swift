import Foundation

/// One HTTP exchange for ``CurlEasyHandle``: where the body comes from and
/// where the response body goes, so large objects stream from and to files.
struct CurlHTTPRequest: Sendable {
    enum Body: Sendable {
        case none
        case data(Data)
        /// `length` bytes of `path` from `offset` (a multipart part, or a whole file).
        case file(path: String, offset: Int64, length: Int64)

        var length: Int64 {
            switch self {
            case .none: return 0
            case .data(let data): return Int64(data.count)
            case .file(_, _, let length): return length
            }
        }
    }

    enum Sink: Sendable {
        case memory
        /// A 2xx body is written to `path` (created or truncated); error bodies stay in memory.
        case file(path: String)
    }

    var method: String
    var url: String
    var headers: [(name: String, value: String)]
    var body: Body = .none
    var sink: Sink = .memory
    /// Hash the 2xx response body on the fly (to verify a GET against the stored checksum).
    var hashResponse = false
}
