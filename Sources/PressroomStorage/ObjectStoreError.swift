import PressroomHTTP

/// A storage failure, classified so callers know whether to retry.
///
/// A struct with a private code enum (as swift-jobs' `JobQueueError` and
/// async-http-client's `HTTPClientError` do) so cases can be added without
/// breaking callers. Messages name the operation, key and the server's own
/// error code and message, never credentials.
public struct ObjectStoreError: Error, Sendable, Hashable, CustomStringConvertible {
    fileprivate enum Base: String, Sendable, Hashable {
        case notFound, conflict, accessDenied, badRequest, invalidKey, invalidConfiguration
        case checksumMismatch, transient, timeout, unsupported, io, tooLarge
    }

    /// The category of failure, comparable with `==` against the static members.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        fileprivate let base: Base
        public static let notFound = Code(base: .notFound)
        /// A different object already exists under the key.
        public static let conflict = Code(base: .conflict)
        /// 403: bad signature, unknown key, missing permission.
        public static let accessDenied = Code(base: .accessDenied)
        /// 4xx the server rejected as malformed.
        public static let badRequest = Code(base: .badRequest)
        public static let invalidKey = Code(base: .invalidKey)
        public static let invalidConfiguration = Code(base: .invalidConfiguration)
        /// Bytes read back do not match the stored SHA-256.
        public static let checksumMismatch = Code(base: .checksumMismatch)
        /// 5xx, 429/503 SlowDown, connection reset or refused.
        public static let transient = Code(base: .transient)
        /// Connect timeout or a stalled transfer (below the low-speed limit).
        public static let timeout = Code(base: .timeout)
        public static let unsupported = Code(base: .unsupported)
        /// Local file I/O failed.
        public static let io = Code(base: .io)
        /// The object is longer than the caller accepts (a download's `maxBytes`).
        public static let tooLarge = Code(base: .tooLarge)
        public var description: String { base.rawValue }
    }

    public let code: Code
    /// Human-readable detail: operation, key, server code and message.
    public let message: String
    /// The server's error code (`SignatureDoesNotMatch`, `NoSuchBucket`...), if any.
    public let serverCode: String?
    /// HTTP status, when the server answered.
    public let httpStatus: Int?
    /// Seconds the server asked us to wait (`Retry-After`).
    public let retryAfter: Double?

    public init(_ code: Code, _ message: String, serverCode: String? = nil, httpStatus: Int? = nil, retryAfter: Double? = nil) {
        self.code = code
        self.message = message
        self.serverCode = serverCode
        self.httpStatus = httpStatus
        self.retryAfter = retryAfter
    }

    /// Whether the same request may succeed if tried again.
    public var isTransient: Bool {
        code == .transient || code == .timeout || code == .checksumMismatch
    }

    public var description: String {
        var parts = ["\(code)"]
        if let httpStatus { parts.append("HTTP \(httpStatus)") }
        if let serverCode { parts.append(serverCode) }
        return "ObjectStoreError(\(parts.joined(separator: ", "))): \(message)"
    }

    public static func == (lhs: ObjectStoreError, rhs: ObjectStoreError) -> Bool {
        lhs.code == rhs.code && lhs.message == rhs.message && lhs.serverCode == rhs.serverCode && lhs.httpStatus == rhs.httpStatus
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(code)
        hasher.combine(message)
    }
}

extension ObjectStoreError {
    /// A transport failure in the store's terms: connection trouble is
    /// transient, timeouts and stalls are `.timeout`, a bad URL is configuration.
    init(error: HTTPClientError, operation: String) {
        let code: Code
        switch error.code {
        case .connection: code = .transient
        case .timeout: code = .timeout
        case .invalidRequest: code = .invalidConfiguration
        case .responseTooLarge: code = .tooLarge
        default: code = .io
        }
        self.init(code, "\(operation): \(error.message)")
    }
}
