import Foundation

/// One HTTP exchange: where the body comes from and where the response body
/// goes, so large objects stream from and to files.
public struct HTTPRequest: Sendable {
    public enum Body: Sendable {
        case none
        case data(Data)
        /// `length` bytes of `path` from `offset` (a multipart part, or a whole file).
        case file(path: String, offset: Int64, length: Int64)

        public var length: Int64 {
            switch self {
            case .none: return 0
            case .data(let data): return Int64(data.count)
            case .file(_, _, let length): return length
            }
        }
    }

    public enum Sink: Sendable {
        case memory
        /// A 2xx body is written to `path` (created or truncated); error bodies stay in memory.
        case file(path: String)
    }

    public var method: String
    public var url: String
    public var headers: [(name: String, value: String)]
    public var body: Body = .none
    public var sink: Sink = .memory
    /// Hash the 2xx response body on the fly (to verify a GET against the stored checksum).
    public var hashResponse = false
    /// The whole exchange may take at most this long (vendor APIs); `nil`
    /// relies on the client's stall detection alone (large transfers).
    public var timeout: Duration?
    /// Give up on a response body larger than this (untrusted servers).
    public var maxResponseBytes: Int?
    /// libcurl silently sends a request again on a fresh connection when a
    /// reused one dies before any response byte arrives. That is harmless for
    /// an idempotent method (RFC 9110 §9.2.2), an S3 PUT under a create-only
    /// key or a create the server dedupes by its key, but a vendor create
    /// without a key sent twice is two printed orders. `false` (the default
    /// for POST and PATCH) gives the request a connection of its own and
    /// refuses the body's rewind, so that case fails with a connection error
    /// (`requestSent: true`) and the caller decides, knowing it is ambiguous.
    public var allowsResend: Bool

    /// Whether sending a request twice has the effect of sending it once by
    /// its method alone (RFC 9110 §9.2.2): the default of ``allowsResend``.
    public static func isIdempotent(_ method: String) -> Bool {
        !["POST", "PATCH"].contains(method.uppercased())
    }

    public init(method: String, url: String, headers: [(name: String, value: String)] = [], body: Body = .none,
                sink: Sink = .memory, hashResponse: Bool = false, timeout: Duration? = nil, maxResponseBytes: Int? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.sink = sink
        self.hashResponse = hashResponse
        self.timeout = timeout
        self.maxResponseBytes = maxResponseBytes
        self.allowsResend = Self.isIdempotent(method)
    }
}
