import Crypto
import Foundation
import PressroomHTTP
import Testing

/// An account on the test vendor, with fresh random credentials.
struct VendorAccount: Sendable {
    var id: String
    var apiKey: String
    var bearerToken: String
    var clientId: String
    var clientSecret: String

    var keyHeader: [(name: String, value: String)] { [("X-API-Key", apiKey)] }
    var bearerHeader: [(name: String, value: String)] { [("Authorization", "Bearer \(bearerToken)")] }
}

/// Talks to the test vendor over real HTTP through `PressroomHTTP`, as the adapters do.
struct VendorClient: Sendable {
    static let http: HTTPClient = try! HTTPClient(options: .init(connections: 48, name: "vendor-tests"))

    let base: String

    static func connect() async throws -> VendorClient {
        VendorClient(base: try await TestVendor.shared.url())
    }

    func send(_ method: String, _ path: String, body: Data? = nil, contentType: String? = "application/json",
              headers: [(name: String, value: String)] = [], timeout: Duration = .seconds(120)) async throws -> HTTPResponse {
        var all = headers
        if body != nil, let contentType { all.append(("Content-Type", contentType)) }
        return try await Self.http.perform(HTTPRequest(
            method: method, url: base + path, headers: all, body: body.map { .data($0) } ?? .none, timeout: timeout))
    }

    /// A control-API call that must succeed; returns the decoded body.
    @discardableResult
    func control(_ method: String, _ path: String, _ body: JSON? = nil, expect status: Int = 200) async throws -> Any {
        let response = try await send(method, "/_control" + path, body: body.map { $0.data })
        try #require(response.status == status, "\(method) \(path) → \(response.status): \(response.text)")
        return response.body.isEmpty ? NSNull() : try JSONSerialization.jsonObject(with: response.body, options: [.fragmentsAllowed])
    }

    func newAccount(latencyMs: Int = 0, tokenTTL: Int = 3600) async throws -> VendorAccount {
        let tag = UUID().uuidString.prefix(8).lowercased()
        let account = VendorAccount(
            id: "acct-\(tag)", apiKey: "key-\(UUID().uuidString)", bearerToken: "bearer-\(UUID().uuidString)",
            clientId: "client-\(tag)", clientSecret: "secret-\(UUID().uuidString)")
        try await control("POST", "/accounts", JSON([
            "id": account.id, "apiKey": account.apiKey, "bearerToken": account.bearerToken,
            "clientId": account.clientId, "clientSecret": account.clientSecret,
            "tokenTTL": tokenTTL, "latencyMs": latencyMs,
        ]), expect: 201)
        return account
    }

    func fault(_ account: VendorAccount, _ fault: [String: any Sendable]) async throws {
        try await control("POST", "/accounts/\(account.id)/faults", JSON(fault), expect: 201)
    }

    func orders(_ account: VendorAccount) async throws -> [[String: Any]] {
        try #require(try await control("GET", "/accounts/\(account.id)/orders") as? [[String: Any]])
    }

    func stats(_ account: VendorAccount) async throws -> [String: Any] {
        try #require(try await control("GET", "/accounts/\(account.id)/stats") as? [String: Any])
    }

    func setStatus(_ account: VendorAccount, order: String, _ change: [String: any Sendable]) async throws {
        try await control("POST", "/accounts/\(account.id)/orders/\(order)/status", JSON(change))
    }

    /// Polls the stats until `condition` holds (event-based waits for a loaded machine).
    func waitForStats(_ account: VendorAccount, timeout: Duration = .seconds(60),
                      _ condition: ([String: Any]) -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition(try await stats(account)) { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("stats condition not reached within \(timeout): \(try await stats(account))")
    }

    /// An OAuth token for the account (form body).
    func token(_ account: VendorAccount) async throws -> String {
        let response = try await send(
            "POST", "/oauth/token",
            body: Data("grant_type=client_credentials&client_id=\(account.clientId)&client_secret=\(account.clientSecret)".utf8),
            contentType: "application/x-www-form-urlencoded")
        try #require(response.status == 200, "token → \(response.status): \(response.text)")
        return try #require(response.json["access_token"] as? String)
    }
}

/// A JSON document built in a test (Sendable, unlike `[String: Any]`).
struct JSON: Sendable {
    let data: Data

    init(_ object: [String: any Sendable]) {
        data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    }

    init(array: [[String: any Sendable]]) {
        data = try! JSONSerialization.data(withJSONObject: array, options: [.sortedKeys])
    }
}

extension HTTPResponse {
    var text: String { String(decoding: body, as: UTF8.self) }

    /// The body as a JSON object (empty when it is not one).
    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:]
    }
}

/// Digging into decoded JSON: `value(json, "order", "status", "stage")`, with array indexes as Int.
func value(_ root: Any?, _ path: any Sendable...) -> Any? {
    var current = root
    for step in path {
        switch step {
        case let key as String: current = (current as? [String: Any])?[key]
        case let index as Int:
            guard let array = current as? [Any], array.indices.contains(index) else { return nil }
            current = array[index]
        default: return nil
        }
    }
    return current
}

enum Checksums {
    static func sha256(_ data: Data) -> String { SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined() }
    static func md5(_ data: Data) -> String { Insecure.MD5.hash(data: data).map { String(format: "%02x", $0) }.joined() }
    static func sha256Base64(_ data: Data) -> String { Data(SHA256.hash(data: data)).base64EncodedString() }

    /// Bytes unique to each call (so checksums differ between assets).
    static func blob(_ size: Int = 4096) -> Data {
        var data = Data(UUID().uuidString.utf8)
        while data.count < size { data.append(contentsOf: SHA256.hash(data: data)) }
        return data.prefix(size)
    }
}
