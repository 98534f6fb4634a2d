/// Failures talking to Redis, split the way callers must react to them:
/// connection problems are retried after a backoff, server errors are bugs or
/// bad data and are reported as they are.
public struct RedisError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// No connection, or it broke mid-command; the command may or may not have run.
        case connection
        /// Redis answered with an error reply (`ERR`, `NOGROUP`, `NOSCRIPT`, ...).
        case server
        /// The reply had an unexpected shape.
        case protocolViolation
    }

    public let kind: Kind
    public let message: String

    public static func connection(_ message: String) -> RedisError { RedisError(kind: .connection, message: message) }
    public static func server(_ message: String) -> RedisError { RedisError(kind: .server, message: message) }
    public static func protocolViolation(_ message: String) -> RedisError { RedisError(kind: .protocolViolation, message: message) }

    /// Error replies that mean "this node cannot serve you now, another can":
    /// a replica (`READONLY`, or a blocked read ended by its demotion,
    /// `UNBLOCKED`), a node still loading its data, a replica cut off from its
    /// master, a master that lost its replicas (`NOREPLICAS`, from
    /// `min-replicas-to-write`: an old master after a failover). The command
    /// did not run; after a failover the master is elsewhere.
    static let wrongNodeCodes: Set<Substring> = ["READONLY", "UNBLOCKED", "LOADING", "MASTERDOWN", "NOREPLICAS"]

    /// Marks a ``connection`` error made from a wrong-node reply.
    private static let wrongNodePrefix = "wrong node: "

    /// A wrong-node error reply, as a connection error: callers retry it
    /// after a backoff, as they do a dropped connection, and never take it
    /// for a verdict on the job.
    static func wrongNode(_ reply: String) -> RedisError? {
        guard let code = reply.split(separator: " ", maxSplits: 1).first, wrongNodeCodes.contains(code) else { return nil }
        return .connection(wrongNodePrefix + reply)
    }

    /// Whether this came from a wrong-node reply (``wrongNode(_:)``).
    public var isWrongNode: Bool { kind == .connection && message.hasPrefix(Self.wrongNodePrefix) }

    /// The error code Redis puts first in an error reply, e.g. `NOGROUP`.
    public var serverCode: String? {
        guard kind == .server else { return nil }
        return message.split(separator: " ", maxSplits: 1).first.map(String.init)
    }

    public var description: String {
        switch kind {
        case .connection: return "redis connection error: \(message)"
        case .server: return "redis error: \(message)"
        case .protocolViolation: return "unexpected redis reply: \(message)"
        }
    }
}
