import Foundation

/// How the console behaves: who may use it, whether it may change anything,
/// and the bounds of its pages. Secrets arrive resolved (the daemon reads
/// them from their `credential:`/`file:`/`env:` sources).
public struct ConsoleSettings: Sendable {
    public enum Role: String, Sendable, Codable {
        /// Sees every page, changes nothing.
        case viewer
        /// May also replay and purge dead letters.
        case `operator`
    }

    /// One account: a password for HTTP Basic (browsers), a token for
    /// `Authorization: Bearer` (scripts), or both.
    public struct User: Sendable {
        public var name: String
        public var password: String?
        public var token: String?
        public var role: Role

        public init(name: String, password: String? = nil, token: String? = nil, role: Role = .viewer) {
            self.name = name
            self.password = password
            self.token = token
            self.role = role
        }
    }

    /// Empty: no authentication, allowed only on a loopback host.
    public var users: [User]
    /// Every write route answers 405.
    public var readOnly: Bool
    /// Seconds between refreshes of the live pages; never below 2.
    public var refreshSeconds: Int
    /// Most dead letters one bulk action touches.
    public var bulkLimit: Int
    /// Rows per dead-letter page.
    public var pageSize: Int

    public static let minimumRefresh = 2
    public static let maximumRefresh = 300

    public init(users: [User] = [], readOnly: Bool = false, refreshSeconds: Int = 5, bulkLimit: Int = 1000, pageSize: Int = 50) {
        self.users = users
        self.readOnly = readOnly
        self.refreshSeconds = min(Self.maximumRefresh, max(Self.minimumRefresh, refreshSeconds))
        self.bulkLimit = max(1, bulkLimit)
        self.pageSize = min(500, max(5, pageSize))
    }

    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    /// The console exposes Redis: on anything but loopback it needs accounts,
    /// each with a secret, and unique names.
    public func validate(host: String) throws {
        if users.isEmpty && !Self.isLoopback(host) {
            throw Invalid(description: "admin.host \(host) is not loopback: the console needs admin.console.users (with a password or token) or admin.console.enabled: false")
        }
        var names = Set<String>()
        for user in users {
            guard !user.name.isEmpty, !user.name.contains(":") else {
                throw Invalid(description: "admin.console.users: a name must be non-empty and have no ':'")
            }
            guard names.insert(user.name).inserted else {
                throw Invalid(description: "admin.console.users: \(user.name) appears twice")
            }
            guard user.password?.isEmpty == false || user.token?.isEmpty == false else {
                throw Invalid(description: "admin.console.users.\(user.name): needs a password or a token")
            }
            if let secret = user.password ?? user.token, secret.count < 12 {
                throw Invalid(description: "admin.console.users.\(user.name): secrets must have at least 12 characters")
            }
        }
    }

    /// `127.0.0.0/8`, `::1` and `localhost`.
    public static func isLoopback(_ host: String) -> Bool {
        let h = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        if h == "localhost" || h == "::1" { return true }
        let parts = h.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }
}
