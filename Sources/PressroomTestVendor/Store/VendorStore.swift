import Crypto
import Foundation

/// All of the vendor's state, in memory (one server per test run). An actor:
/// every change is a short synchronous step, so concurrent requests never
/// wait on each other for longer than a dictionary update.
actor VendorStore {
    /// How a create's dedupe key stands when a request arrives.
    enum Reservation: Sendable {
        /// First use: the caller owns the key until it calls `finish` or `release`.
        case reserved
        /// Another request with the key is still being handled.
        case inFlight
        /// The key created an order; `sameBody` compares the canonical bodies.
        case completed(sameBody: Bool, orderID: String, response: StoredResponse)
    }

    enum Authentication: Sendable {
        case account(String)
        case denied
    }

    private struct Token {
        var account: String
        var expiresAt: ContinuousClock.Instant
    }

    private var accounts: [String: AccountState] = [:]
    private var tokens: [String: Token] = [:]
    /// Credential → account id, so two accounts never share one.
    private var credentials: [String: String] = [:]
    private var nextPrintfulNumber = 100_001
    private var nextProdigiNumber = 840_001

    // MARK: Accounts

    /// Creates the account; the same definition again is accepted unchanged (`false`).
    func createAccount(_ spec: AccountSpec) throws(ControlError) -> Bool {
        if let existing = accounts[spec.id] {
            guard existing.spec == spec else { throw .conflict("account \(spec.id) exists with a different definition") }
            return false
        }
        let owned = [spec.apiKey.map { "key:\($0)" }, spec.bearerToken.map { "bearer:\($0)" }, spec.clientId.map { "client:\($0)" }]
            .compactMap { $0 }
        if owned.contains(where: { credentials[$0] != nil }) {
            throw .conflict("another account already uses one of these credentials")
        }
        for credential in owned { credentials[credential] = spec.id }
        accounts[spec.id] = AccountState(spec: spec)
        return true
    }

    func deleteAccount(_ id: String) throws(ControlError) {
        guard let account = accounts.removeValue(forKey: id) else { throw .notFound("no account \(id)") }
        credentials = credentials.filter { $0.value != id }
        for token in account.tokens { tokens[token] = nil }
    }

    func account(_ id: String) throws(ControlError) -> AccountState {
        guard let account = accounts[id] else { throw .notFound("no account \(id)") }
        return account
    }

    func addFaults(_ faults: [Fault], to id: String) throws(ControlError) -> [Fault] {
        guard accounts[id] != nil else { throw .notFound("no account \(id)") }
        accounts[id]!.faults.append(contentsOf: faults)
        return accounts[id]!.faults
    }

    func clearFaults(of id: String) throws(ControlError) {
        guard accounts[id] != nil else { throw .notFound("no account \(id)") }
        accounts[id]!.faults.removeAll()
    }

    // MARK: Authentication

    /// Every presented credential must name the same, existing account.
    func authenticate(apiKeys: [String], bearerTokens: [String]) -> Authentication {
        let now = ContinuousClock.now
        var found: Set<String> = []
        for key in apiKeys {
            guard let id = credentials["key:\(key)"] else { return .denied }
            found.insert(id)
        }
        for bearer in bearerTokens {
            if let id = credentials["bearer:\(bearer)"] {
                found.insert(id)
            } else if let token = tokens[bearer], token.expiresAt > now {
                found.insert(token.account)
            } else {
                return .denied
            }
        }
        guard found.count == 1, let id = found.first, accounts[id] != nil else { return .denied }
        return .account(id)
    }

    /// The account whose client credentials these are.
    func client(id clientID: String, secret: String) -> String? {
        guard let account = credentials["client:\(clientID)"].flatMap({ accounts[$0] }),
              let expected = account.spec.clientSecret,
              Data(SHA256.hash(data: Data(expected.utf8))) == Data(SHA256.hash(data: Data(secret.utf8)))
        else { return nil }
        return account.spec.id
    }

    func issueToken(for id: String) -> (token: String, expiresIn: Int)? {
        guard let account = accounts[id] else { return nil }
        let token = "tv_" + Self.randomToken()
        let ttl = account.spec.tokenTTLSeconds
        tokens[token] = Token(account: id, expiresAt: .now + .seconds(ttl))
        accounts[id]!.tokens.insert(token)
        return (token, ttl)
    }

    /// The `unauthorized` fault: every token issued so far stops working.
    func revokeTokens(of id: String) {
        guard let issued = accounts[id]?.tokens else { return }
        for token in issued { tokens[token] = nil }
        accounts[id]!.tokens.removeAll()
    }

    // MARK: Requests and faults

    /// Counts the request and takes the fault (if any) that applies to it.
    func begin(_ operation: Operation, account id: String) -> (fault: Fault?, latencyMilliseconds: Int) {
        guard accounts[id] != nil else { return (nil, 0) }
        accounts[id]!.requests[operation, default: 0] += 1
        return (accounts[id]!.takeFault(for: operation), accounts[id]!.spec.latencyMilliseconds)
    }

    func recordStatus(_ status: Int, account id: String) {
        accounts[id]?.statuses[status, default: 0] += 1
    }

    // MARK: Dedupe keys

    func reserve(_ key: String, dialect: Dialect, fingerprint: Data, account id: String) -> Reservation {
        let scope = AccountState.KeyScope(dialect: dialect, key: key)
        guard accounts[id] != nil else { return .inFlight }
        accounts[id]!.createRequests[scope, default: 0] += 1
        if let entry = accounts[id]!.keys[scope] {
            if entry.inFlight { return .inFlight }
            if let orderID = entry.orderID, let response = entry.response {
                return .completed(sameBody: entry.fingerprint == fingerprint, orderID: orderID, response: response)
            }
        }
        accounts[id]!.keys[scope] = AccountState.KeyEntry(fingerprint: fingerprint, inFlight: true)
        return .reserved
    }

    /// The key's create failed (validation, downloads): nothing is kept.
    func release(_ key: String, dialect: Dialect, account id: String) {
        accounts[id]?.keys[AccountState.KeyScope(dialect: dialect, key: key)] = nil
    }

    /// Stores the answer a replay will get; the key stays in flight until `finish`.
    func complete(_ key: String, dialect: Dialect, orderID: String, response: StoredResponse, account id: String) {
        let scope = AccountState.KeyScope(dialect: dialect, key: key)
        accounts[id]?.keys[scope]?.orderID = orderID
        accounts[id]?.keys[scope]?.response = response
    }

    /// The first request is over (answered, dropped or its hold ended).
    func finish(_ key: String, dialect: Dialect, account id: String) {
        accounts[id]?.keys[AccountState.KeyScope(dialect: dialect, key: key)]?.inFlight = false
    }

    func createRequests(for order: VendorOrder, account id: String) -> Int {
        guard let key = order.key, order.dialect.dedupes else { return 1 }
        return accounts[id]?.createRequests[AccountState.KeyScope(dialect: order.dialect, key: key)] ?? 1
    }

    // MARK: Orders

    /// A fresh vendor order id in the dialect's format, and Printful's number.
    func newOrderID(_ dialect: Dialect) -> (id: String, number: Int) {
        switch dialect {
        case .generic:
            return ("gen_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(20), 0)
        case .prodigi:
            defer { nextProdigiNumber += 1 }
            return ("ord_\(nextProdigiNumber)", 0)
        case .printful:
            defer { nextPrintfulNumber += 1 }
            return (String(nextPrintfulNumber), nextPrintfulNumber)
        case .gelato:
            return (UUID().uuidString.lowercased(), 0)
        }
    }

    func insert(_ order: VendorOrder, account id: String) {
        guard accounts[id] != nil else { return }
        accounts[id]!.orders[order.id] = order
        accounts[id]!.orderIDs.append(order.id)
        if let key = order.key { accounts[id]!.ordersByKey[key, default: 0] += 1 }
        if let reference = order.reference { accounts[id]!.ordersByReference[reference, default: 0] += 1 }
    }

    func order(_ orderID: String, dialect: Dialect? = nil, account id: String) -> VendorOrder? {
        guard let order = accounts[id]?.orders[orderID], dialect == nil || order.dialect == dialect else { return nil }
        return order
    }

    /// The order a dedupe key created (Printful's `@external_id`).
    func order(key: String, dialect: Dialect, account id: String) -> VendorOrder? {
        guard let orderID = accounts[id]?.keys[AccountState.KeyScope(dialect: dialect, key: key)]?.orderID else { return nil }
        return accounts[id]?.orders[orderID]
    }

    func orders(of id: String) throws(ControlError) -> [VendorOrder] {
        guard let account = accounts[id] else { throw .notFound("no account \(id)") }
        return account.orderIDs.compactMap { account.orders[$0] }
    }

    /// Applies `change` to the order and stamps `updatedAt`; `nil` when it does not exist.
    func update(_ orderID: String, account id: String, _ change: @Sendable (inout VendorOrder) -> Void) -> VendorOrder? {
        guard accounts[id]?.orders[orderID] != nil else { return nil }
        change(&accounts[id]!.orders[orderID]!)
        accounts[id]!.orders[orderID]!.updatedAt = Date()
        return accounts[id]!.orders[orderID]
    }

    /// 32 random bytes, base64url without padding.
    static func randomToken() -> String {
        let bytes = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
        return bytes.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
