import Foundation
import PressroomConsole

/// `admin.console`: the operator console on the admin port (docs/operations.md).
public struct ConsoleConfiguration: Codable, Sendable, Equatable {
    /// One account. `password` (HTTP Basic) and `token` (Bearer) are secrets:
    /// `credential:NAME`, `file:/abs/path`, `env:NAME` or the value itself.
    public struct User: Codable, Sendable, Equatable {
        public var name: String
        public var password: String?
        public var token: String?
        /// `viewer` (default) or `operator` (may replay and purge).
        public var role: String = "viewer"

        public init(name: String, password: String? = nil, token: String? = nil, role: String = "viewer") {
            self.name = name
            self.password = password
            self.token = token
            self.role = role
        }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try c.decode(String.self, forKey: .name)
            password = try c.decodeIfPresent(String.self, forKey: .password)
            token = try c.decodeIfPresent(String.self, forKey: .token)
            role = try c.decodeIfPresent(String.self, forKey: .role) ?? "viewer"
        }
    }

    public var enabled: Bool = true
    /// Every write route answers 405.
    public var readOnly: Bool = false
    /// Needed whenever `admin.host` is not loopback.
    public var users: [User] = []
    /// Seconds between refreshes of the live pages (2-300).
    public var refreshSeconds: Int = 5
    /// Most dead letters one bulk replay or purge touches.
    public var bulkLimit: Int = 1000

    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = ConsoleConfiguration()
        enabled = try c.decodeIfPresent(Bool.self, forKey: .enabled) ?? d.enabled
        readOnly = try c.decodeIfPresent(Bool.self, forKey: .readOnly) ?? d.readOnly
        users = try c.decodeIfPresent([User].self, forKey: .users) ?? d.users
        refreshSeconds = try c.decodeIfPresent(Int.self, forKey: .refreshSeconds) ?? d.refreshSeconds
        bulkLimit = try c.decodeIfPresent(Int.self, forKey: .bulkLimit) ?? d.bulkLimit
    }

    /// The console's settings, secrets resolved (see ``ConfigurationLoader``).
    var settings: ConsoleSettings {
        ConsoleSettings(users: users.map { .init(name: $0.name, password: $0.password, token: $0.token, role: $0.role == "operator" ? .operator : .viewer) },
                        readOnly: readOnly, refreshSeconds: refreshSeconds, bulkLimit: bulkLimit)
    }

    func validate(host: String) throws {
        for (i, user) in users.enumerated() where !["viewer", "operator"].contains(user.role) {
            throw ConfigurationLoader.Invalid(field: "admin.console.users[\(i)].role", problem: "must be viewer or operator")
        }
        guard (ConsoleSettings.minimumRefresh...ConsoleSettings.maximumRefresh).contains(refreshSeconds) else {
            throw ConfigurationLoader.Invalid(field: "admin.console.refreshSeconds", problem: "must be 2-300")
        }
        guard (1...100_000).contains(bulkLimit) else {
            throw ConfigurationLoader.Invalid(field: "admin.console.bulkLimit", problem: "must be 1-100000")
        }
        do {
            try settings.validate(host: host)
        } catch {
            throw ConfigurationLoader.Invalid(field: "admin.console", problem: "\(error)")
        }
    }
}
