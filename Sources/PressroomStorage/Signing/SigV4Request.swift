/// The parts of an HTTP request that SigV4 signs.
///
/// `path` and the query items are *decoded* (an object key as it is, with
/// spaces, `+` or unicode): the signer percent-encodes them exactly once, and
/// ``encodedPath``/``encodedQuery`` give the same encoding for the wire, so
/// what is signed is what is sent.
public struct SigV4Request: Sendable, Equatable {
    public var method: String
    public var path: String
    public var query: [(name: String, value: String)]
    public var headers: [(name: String, value: String)]

    public init(method: String, path: String, query: [(name: String, value: String)] = [], headers: [(name: String, value: String)] = []) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
    }

    /// The path as sent: each segment percent-encoded once, slashes kept.
    public var encodedPath: String { SigV4Encoding.encodePath(path) }

    /// The query as sent, in canonical (sorted) order.
    public var encodedQuery: String { SigV4Encoding.canonicalQuery(query) }

    public mutating func setHeader(_ name: String, _ value: String) {
        headers.removeAll { $0.name.lowercased() == name.lowercased() }
        headers.append((name, value))
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    public static func == (lhs: SigV4Request, rhs: SigV4Request) -> Bool {
        lhs.method == rhs.method && lhs.path == rhs.path
            && lhs.query.elementsEqual(rhs.query, by: { $0 == $1 })
            && lhs.headers.elementsEqual(rhs.headers, by: { $0 == $1 })
    }
}
