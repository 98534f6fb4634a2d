/// A failed HTTP exchange that produced no response: the transport's own
/// failure, classified so callers know whether to retry, with libcurl's
/// message. (A response with any status is not an error here; callers decide.)
public struct HTTPClientError: Error, Sendable, Hashable, CustomStringConvertible {
    fileprivate enum Base: String, Sendable, Hashable {
        case connection, timeout, invalidRequest, io, responseTooLarge
    }

    public struct Code: Sendable, Hashable, CustomStringConvertible {
        fileprivate let base: Base
        /// Refused, reset, DNS failure, nothing received: the request may not have arrived.
        public static let connection = Code(base: .connection)
        /// Connect or total timeout, or a stalled transfer: the server may have acted on it.
        public static let timeout = Code(base: .timeout)
        /// A malformed URL, a forbidden protocol or a bad option: retrying cannot help.
        public static let invalidRequest = Code(base: .invalidRequest)
        /// A local file could not be read or written.
        public static let io = Code(base: .io)
        /// The response body passed ``HTTPRequest/maxResponseBytes``.
        public static let responseTooLarge = Code(base: .responseTooLarge)
        public var description: String { base.rawValue }
    }

    public let code: Code
    public let message: String
    /// Whether any byte of the request left this process. `false` proves the
    /// server never saw it (refused connection, unknown host), so a create
    /// that failed this way can be sent elsewhere without risking a duplicate.
    public let requestSent: Bool

    public init(_ code: Code, _ message: String, requestSent: Bool = true) {
        self.code = code
        self.message = message
        self.requestSent = requestSent
    }

    /// Whether the same request may succeed if sent again.
    public var isTransient: Bool { code == .connection || code == .timeout }

    public var description: String { "HTTPClientError(\(code)): \(message)" }
}
