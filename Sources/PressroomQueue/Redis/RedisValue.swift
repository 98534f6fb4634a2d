/// A decoded RESP2 reply. Bulk strings stay bytes: job payloads are
/// producer-controlled and must round-trip exactly.
public enum RedisValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case bulk([UInt8])
    case status(String)
    case error(String)
    case array([RedisValue])

    public var string: String? {
        switch self {
        case .bulk(let bytes): return String(decoding: bytes, as: UTF8.self)
        case .status(let text): return text
        case .integer(let value): return String(value)
        default: return nil
        }
    }

    public var int: Int64? {
        switch self {
        case .integer(let value): return value
        case .bulk, .status: return string.flatMap { Int64($0) }
        default: return nil
        }
    }

    public var array: [RedisValue]? {
        if case .array(let values) = self { return values }
        return nil
    }

    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// Throws the server's error reply as a ``RedisError``.
    @discardableResult
    public func throwingServerError() throws -> RedisValue {
        if case .error(let message) = self { throw RedisError.server(message) }
        return self
    }

    /// A flat `[k1, v1, k2, v2]` reply (HGETALL, stream entry fields) as pairs.
    public var fieldPairs: [(String, String)] {
        guard let values = array else { return [] }
        var pairs: [(String, String)] = []
        pairs.reserveCapacity(values.count / 2)
        var index = 0
        while index + 1 < values.count {
            pairs.append((values[index].string ?? "", values[index + 1].string ?? ""))
            index += 2
        }
        return pairs
    }
}
