/// A classified job failure: transient ones are retried with backoff,
/// permanent ones go to the dead-letter stream at once.
public struct JobError: Error, Sendable, CustomStringConvertible {
    public enum Class: String, Sendable, Codable {
        case transient
        case permanent
    }

    public let errorClass: Class
    public let message: String
    /// A server's explicit wish (HTTP Retry-After), used instead of the backoff when longer.
    public let retryAfter: Duration?

    public init(_ errorClass: Class, _ message: String, retryAfter: Duration? = nil) {
        self.errorClass = errorClass
        self.message = message
        self.retryAfter = retryAfter
    }

    public static func transient(_ message: String, retryAfter: Duration? = nil) -> JobError {
        JobError(.transient, message, retryAfter: retryAfter)
    }

    public static func permanent(_ message: String) -> JobError {
        JobError(.permanent, message)
    }

    public var description: String { "\(errorClass.rawValue): \(message)" }
}
