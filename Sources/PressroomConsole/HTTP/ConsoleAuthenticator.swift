import Crypto
import Foundation

/// Who is asking: HTTP Basic for browsers, Bearer tokens for scripts,
/// compared in constant time over digests. Without configured users the
/// console is open (loopback only, enforced by ``ConsoleSettings/validate(host:)``).
struct ConsoleAuthenticator: Sendable {
    struct Identity: Sendable, Equatable {
        var name: String
        var role: ConsoleSettings.Role
    }

    enum Verdict: Sendable, Equatable {
        case allowed(Identity)
        /// No or wrong credentials: 401 with a Basic challenge.
        case denied
    }

    private struct Account: Sendable {
        var name: String
        var role: ConsoleSettings.Role
        var password: [UInt8]?
        var token: [UInt8]?
    }

    private let accounts: [Account]
    /// Signs per-user CSRF tokens. Derived from the accounts' secrets, so every
    /// process of a fleet accepts the tokens of the others; random without accounts.
    private let csrfKeyBytes: [UInt8]
    private var csrfKey: SymmetricKey { SymmetricKey(data: csrfKeyBytes) }

    init(users: [ConsoleSettings.User]) {
        accounts = users.map {
            Account(name: $0.name, role: $0.role,
                    password: $0.password.map { Array(SHA256.hash(data: Data($0.utf8))) },
                    token: $0.token.map { Array(SHA256.hash(data: Data($0.utf8))) })
        }
        if users.isEmpty {
            csrfKeyBytes = SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
        } else {
            var hasher = SHA256()
            hasher.update(data: Data("pressroom-console-csrf".utf8))
            for user in users.sorted(by: { $0.name < $1.name }) {
                hasher.update(data: Data("\u{0}\(user.name)\u{0}\(user.password ?? "")\u{0}\(user.token ?? "")".utf8))
            }
            csrfKeyBytes = Array(hasher.finalize())
        }
    }

    var isOpen: Bool { accounts.isEmpty }

    func authenticate(authorization: String?) -> Verdict {
        if accounts.isEmpty { return .allowed(Identity(name: "anonymous", role: .operator)) }
        guard let authorization else { return .denied }
        let parts = authorization.split(separator: " ", maxSplits: 1)
        guard parts.count == 2 else { return .denied }
        let scheme = parts[0].lowercased()
        let value = parts[1].trimmingCharacters(in: .whitespaces)
        if scheme == "bearer" {
            let digest = Array(SHA256.hash(data: Data(value.utf8)))
            // Every account is compared, so the time does not tell which one matched.
            var found: Account?
            for account in accounts where account.token.map({ Self.same($0, digest) }) == true { found = account }
            return found.map { .allowed(Identity(name: $0.name, role: $0.role)) } ?? .denied
        }
        if scheme == "basic", let decoded = Data(base64Encoded: value), let text = String(data: decoded, encoding: .utf8),
           let colon = text.firstIndex(of: ":") {
            let name = String(text[..<colon])
            let digest = Array(SHA256.hash(data: Data(text[text.index(after: colon)...].utf8)))
            var found: Account?
            for account in accounts where account.password.map({ Self.same($0, digest) }) == true && account.name == name { found = account }
            return found.map { .allowed(Identity(name: $0.name, role: $0.role)) } ?? .denied
        }
        return .denied
    }

    /// The form token of `identity`: HMAC of its name.
    func csrfToken(for identity: Identity) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data("csrf:\(identity.name)".utf8), using: csrfKey)
        return Data(mac).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    func checkCSRFToken(_ token: String?, for identity: Identity) -> Bool {
        guard let token else { return false }
        let expected = Array(csrfToken(for: identity).utf8)
        let given = Array(token.utf8)
        guard expected.count == given.count else { return false }
        return zip(expected, given).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    private static func same(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.count == b.count && zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
