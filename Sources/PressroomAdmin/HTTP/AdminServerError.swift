/// Why the admin server could not start or stopped. All cases are permanent:
/// they come from configuration (a bad host, a port already taken) and need
/// an operator.
public struct AdminServerError: Error, CustomStringConvertible, Sendable {
    private enum Code: Sendable {
        case invalidHost
        case notListening
        case serverFailed
    }

    private let code: Code
    /// What went wrong, naming the offending value.
    public let message: String

    /// Configuration errors do not heal by retrying.
    public var isTransient: Bool { false }

    public var description: String { message }

    /// The configured host is neither an IPv4 nor an IPv6 literal (nor `localhost`).
    public static func invalidHost(_ host: String) -> AdminServerError {
        AdminServerError(code: .invalidHost, message: "admin.host '\(host)' is not an IPv4 or IPv6 address")
    }

    /// The server did not bind in time (typically the port is in use); carries the cause.
    public static func notListening(_ address: String, cause: String) -> AdminServerError {
        AdminServerError(code: .notListening, message: "admin server did not start listening on \(address): \(cause)")
    }

    /// The server stopped with an error it was not asked for, e.g. the port is
    /// already in use; carries FlyingFox's error.
    public static func serverFailed(_ address: String, cause: String) -> AdminServerError {
        AdminServerError(code: .serverFailed, message: "admin server on \(address) failed: \(cause)")
    }

    public static func ~= (pattern: AdminServerError, error: any Error) -> Bool {
        (error as? AdminServerError)?.code == pattern.code
    }
}
