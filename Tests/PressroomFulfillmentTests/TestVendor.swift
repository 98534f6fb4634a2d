import Foundation
import Logging
@testable import PressroomFulfillment
import PressroomHTTP
import PressroomQueue
import PressroomStorage
import Testing

/// The strict test vendor `scripts/services/vendor.sh` starts (its contract
/// is in docs/test-vendor.md). Each test makes accounts of its own.
struct TestVendor: Sendable {
    let url: String
    let http: HTTPClient

    static func running() throws -> TestVendor {
        let url = try #require(ProcessInfo.processInfo.environment["PRESSROOM_TEST_VENDOR_URL"],
                               "PRESSROOM_TEST_VENDOR_URL is not set: run scripts/test.sh, or eval \"$(scripts/services/vendor.sh start)\" first")
        return TestVendor(url: url, http: try HTTPClient(options: .init(connections: 4, name: "vendor-control")))
    }

    struct Account: Sendable {
        let id: String
        let apiKey: String
        let bearerToken: String
        let clientID: String
        let clientSecret: String
        var secrets: [String] { [apiKey, bearerToken, clientSecret] }
    }

    @discardableResult
    func control(_ method: String, _ path: String, _ body: [String: Any]? = nil) async throws -> Any? {
        let data = try body.map { try JSONSerialization.data(withJSONObject: $0) }
        let response = try await http.perform(HTTPRequest(method: method, url: url + path, headers: [("Content-Type", "application/json")],
                                                          body: data.map { .data($0) } ?? .none, timeout: .seconds(10)))
        #expect((200..<300).contains(response.status), "\(method) \(path): \(response.status) \(String(decoding: response.body, as: UTF8.self))")
        return response.body.isEmpty ? nil : try JSONSerialization.jsonObject(with: response.body, options: [.fragmentsAllowed])
    }

    func account(_ name: String = #function, tokenTTL: Int = 3600, latencyMs: Int = 0) async throws -> Account {
        let id = "\(name.filter { $0.isLetter || $0.isNumber }.prefix(16))-\(UUID().uuidString.prefix(8))"
        let account = Account(id: id, apiKey: "key-\(UUID().uuidString)", bearerToken: "tok-\(UUID().uuidString)",
                              clientID: "client-\(id)", clientSecret: "cs-\(UUID().uuidString)")
        try await control("POST", "/_control/accounts", [
            "id": id, "apiKey": account.apiKey, "bearerToken": account.bearerToken, "clientId": account.clientID,
            "clientSecret": account.clientSecret, "tokenTTL": tokenTTL, "latencyMs": latencyMs,
        ])
        return account
    }

    func fault(_ account: Account, _ fault: [String: Any]) async throws {
        try await control("POST", "/_control/accounts/\(account.id)/faults", fault)
    }

    func orders(_ account: Account) async throws -> [[String: Any]] {
        let value = try await control("GET", "/_control/accounts/\(account.id)/orders")
        return value as? [[String: Any]] ?? (value as? [String: Any])?["orders"] as? [[String: Any]] ?? []
    }

    func stats(_ account: Account) async throws -> [String: Any] {
        try await control("GET", "/_control/accounts/\(account.id)/stats") as? [String: Any] ?? [:]
    }

    /// Vendor orders created for `key` (our idempotency key / external id / reference).
    func ordersCreated(_ account: Account, key: String) async throws -> Int {
        let byKey = try await stats(account)["ordersByKey"] as? [String: Any] ?? [:]
        return (byKey[key] as? NSNumber)?.intValue ?? 0
    }

    func setStatus(_ account: Account, order: String, _ body: [String: Any]) async throws {
        try await control("POST", "/_control/accounts/\(account.id)/orders/\(order)/status", body)
    }

    /// A vendors.yaml entry for this account in `dialect`.
    func vendor(_ adapter: VendorConfiguration.Adapter, _ account: Account, countries: [String: Int] = ["GB": 1, "US": 1, "DE": 1],
                auth: VendorConfiguration.Auth.Kind? = nil, timeout: Duration = .seconds(15), breaker: VendorConfiguration.Breaker = .init(),
                maxInFlight: Int = 8) -> VendorConfiguration {
        let prefix: String
        let kind: VendorConfiguration.Auth.Kind
        switch adapter {
        case .idempotencyKey: prefix = "/generic"; kind = auth ?? .apiKey
        case .prodigi: prefix = "/prodigi"; kind = auth ?? .apiKey
        case .printful: prefix = "/printful"; kind = auth ?? .bearer
        case .gelato: prefix = "/gelato"; kind = auth ?? .apiKey
        case .sandbox: prefix = ""; kind = auth ?? .bearer
        }
        let credentials = VendorConfiguration.Auth(kind: kind, apiKey: account.apiKey, token: account.bearerToken, tokenURL: url + "/oauth/token",
                                                   clientID: account.clientID, clientSecret: account.clientSecret)
        let products: [String: VendorConfiguration.Product] = [
            "print-4x6": .init(sku: adapter == .printful ? "4011" : "PHOTO-4X6", sizing: "fillPrintArea"),
            "poster-a2": .init(sku: adapter == .printful ? "1350" : "POSTER-A2"),
        ]
        var c = VendorConfiguration(adapter: adapter, baseURL: url + prefix, auth: credentials, products: products,
                                    countries: countries.mapValues { .init(priority: $0) }, maxInFlight: maxInFlight,
                                    timeouts: .init(connect: .seconds(2), request: timeout), breaker: breaker)
        c.currency = "EUR"
        return c
    }
}

/// Masters in ministack (which verifies presigned URLs), handed to vendors as presigned GETs.
enum TestMasters {
    static func store() throws -> S3ObjectStore {
        let env = ProcessInfo.processInfo.environment
        func value(_ name: String) throws -> String {
            try #require(env["PRESSROOM_TEST_MINISTACK_\(name)"], "PRESSROOM_TEST_MINISTACK_\(name) is not set: run scripts/test.sh, or eval \"$(scripts/services/ministack.sh start)\" first")
        }
        let configuration = S3Configuration(endpoint: try value("ENDPOINT"), region: "us-east-1", bucket: try value("BUCKET"), addressingStyle: .path,
                                            accessKeyID: try value("ACCESS_KEY"), secretAccessKey: try value("SECRET_KEY"))
        return try S3ObjectStore(configuration: configuration, logger: Logger(label: "masters"))
    }

    /// Uploads a small master per item and returns their assets.
    static func assets(for order: FulfillmentOrder) async throws -> [Asset] {
        let store = try store()
        var assets: [Asset] = []
        for (index, item) in order.items.enumerated() {
            let data = Data("master \(order.orderId) \(index) \(UUID().uuidString)".utf8) + Data(repeating: UInt8(index), count: 2048)
            let key = "masters/tests/\(UUID().uuidString)-\(item.master.split(separator: "/").last ?? "m")"
            _ = try await store.putIfAbsent(key, data: data, contentType: "image/jpeg")
            let head = try #require(try await store.head(key))
            let url = try await store.presignedURL(for: key, method: .get, expiresIn: .seconds(3600))
            let sha = head.checksumSHA256.flatMap { Data(base64Encoded: $0) }.map { $0.map { String(format: "%02x", $0) }.joined() }
            assets.append(Asset(url: url.absoluteString, sha256: sha, md5: head.md5Hex, bytes: head.size))
        }
        return assets
    }
}

/// A Fulfillment over real Redis and the test vendor, in a namespace of its own.
struct Harness {
    let fulfillment: Fulfillment
    let client: RedisClient
    let namespace: String
    let metrics = FulfillmentMetrics()

    init(vendors: [String: VendorConfiguration], consumer: String = "test-worker", sandboxUpdates: SandboxAdapter.Deliver? = nil) async throws {
        client = try await TestRedis.client()
        namespace = TestRedis.namespace()
        fulfillment = try Fulfillment.make(vendors: vendors, client: client, keys: OrderKeys(namespace: namespace), metrics: metrics, consumer: consumer,
                                           sandboxUpdates: sandboxUpdates)
    }

    /// One job attempt: the outcome, or the classified error. A first attempt
    /// skips the first read unless told otherwise, as a shop's fulfill job does.
    func attempt(_ order: FulfillmentOrder, _ n: Int = 1, probablyNew: Bool? = nil) async -> Result<Fulfillment.Outcome, JobError> {
        do {
            return .success(try await fulfillment.fulfil(order, attempt: n, probablyNew: probablyNew ?? (n == 1), logger: Fixtures.logger) {
                try await TestMasters.assets(for: order)
            })
        } catch let error as JobError {
            return .failure(error)
        } catch {
            return .failure(.transient("\(error)"))
        }
    }

    /// Attempts as the queue would retry them (transient errors, e.g. the
    /// vendor's 409 while it still handles a hung request), up to `limit`.
    func retried(_ order: FulfillmentOrder, from first: Int, limit: Int = 10) async -> Result<Fulfillment.Outcome, JobError> {
        var result = await attempt(order, first)
        var n = first
        while case .failure(let error) = result, error.errorClass == .transient, n < first + limit {
            try? await Task.sleep(for: min(error.retryAfter ?? .milliseconds(300), .seconds(1)))
            n += 1
            result = await attempt(order, n)
        }
        return result
    }

    func record(_ id: String) async throws -> OrderRecord {
        try #require(try await fulfillment.store.read(id))
    }

    func events() async throws -> [[String: String]] {
        StreamEntry.parseEntries(try await client.call(["XRANGE", fulfillment.store.keys.events, "-", "+"])).map {
            Dictionary($0.fields ?? [], uniquingKeysWith: { a, _ in a })
        }
    }
}

extension Result {
    var error: Failure? { if case .failure(let e) = self { return e }; return nil }
    var value: Success? { if case .success(let v) = self { return v }; return nil }
}
