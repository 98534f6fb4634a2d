import Foundation

/// Status, headers (names lower-cased, the last value wins) and, unless it
/// was streamed to a file, the body.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: Data
    /// Bytes received (also when streamed to a file).
    public var bodyLength: Int64
    /// Base64 SHA-256 of the body when the request asked for it.
    public var bodySHA256: String?

    public init(status: Int, headers: [String: String], body: Data, bodyLength: Int64, bodySHA256: String? = nil) {
        self.status = status
        self.headers = headers
        self.body = body
        self.bodyLength = bodyLength
        self.bodySHA256 = bodySHA256
    }
}
