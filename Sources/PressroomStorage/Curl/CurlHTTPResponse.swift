import Foundation

/// Status, headers (names lower-cased, the last value wins) and, unless it
/// was streamed to a file, the body.
struct CurlHTTPResponse: Sendable {
    var status: Int
    var headers: [String: String]
    var body: Data
    /// Bytes received (also when streamed to a file).
    var bodyLength: Int64
    /// Base64 SHA-256 of the body when the request asked for it.
    var bodySHA256: String?
}
