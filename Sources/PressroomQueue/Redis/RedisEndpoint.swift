import Foundation

/// Where Redis is, parsed from a `redis://[user:password@]host[:port][/db]`
/// or `unix:///path/to/socket[?db=N]` URL.
public struct RedisEndpoint: Sendable, Equatable, CustomStringConvertible {
    public enum Address: Sendable, Equatable {
        case tcp(host: String, port: Int)
        case unix(path: String)
    }

    public var address: Address
    public var username: String?
    public var password: String?
    public var database: Int

    public init(address: Address, username: String? = nil, password: String? = nil, database: Int = 0) {
        self.address = address
        self.username = username
        self.password = password
        self.database = database
    }

    public init(url: String) throws {
        guard let components = URLComponents(string: url), let scheme = components.scheme else {
            throw RedisError.protocolViolation("not a redis URL: \(Self.masked(url))")
        }
        switch scheme {
        case "redis":
            let host = components.host.flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1"
            self.address = .tcp(host: host, port: components.port ?? 6379)
            let path = components.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
            guard let db = path.isEmpty ? 0 : Int(path), db >= 0 else {
                throw RedisError.protocolViolation("database in \(Self.masked(url)) must be a number")
            }
            self.database = db
        case "unix":
            guard !components.path.isEmpty else {
                throw RedisError.protocolViolation("unix URL without a socket path: \(url)")
            }
            self.address = .unix(path: components.path)
            let db = components.queryItems?.first(where: { $0.name == "db" })?.value
            self.database = db.flatMap(Int.init) ?? 0
        default:
            throw RedisError.protocolViolation("unsupported scheme '\(scheme)' (use redis:// or unix://; hiredis 0.14 has no TLS)")
        }
        self.username = components.user.flatMap { $0.isEmpty ? nil : $0.removingPercentEncoding }
        self.password = components.password.flatMap { $0.removingPercentEncoding }
    }

    /// The URL with any password replaced, safe for logs.
    public var description: String {
        let auth = password == nil ? "" : "\(username ?? ""):****@"
        switch address {
        case .tcp(let host, let port): return "redis://\(auth)\(host):\(port)/\(database)"
        case .unix(let path): return "unix://\(path)?db=\(database)"
        }
    }

    /// Masks the password of a URL string that may not even parse.
    public static func masked(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "****"
        return components.string ?? url
    }
}
