import Foundation
import Logging
@testable import PressroomFulfillment
import PressroomQueue
import Testing

/// The redis-server the test scripts start (scripts/services/redis.sh).
enum TestRedis {
    static var url: String { ProcessInfo.processInfo.environment["PRESSROOM_TEST_REDIS_URL"] ?? "redis://127.0.0.1:6399" }

    static func client(_ name: String = "fulfil-test") async throws -> RedisClient {
        let client = RedisClient(endpoint: try RedisEndpoint(url: url), name: name)
        do {
            _ = try await client.call(["PING"])
        } catch {
            Issue.record("redis-server is not reachable at \(url): start it with scripts/services/redis.sh or run scripts/test.sh (\(error))")
            throw error
        }
        return client
    }

    static func namespace(_ name: String = #function) -> String {
        "f-\(name.filter { $0.isLetter || $0.isNumber }.prefix(20))-\(UUID().uuidString.prefix(8))"
    }
}

enum Fixtures {
    static let recipient = FulfillmentOrder.Recipient(
        name: "Ada Lovelace-Byron", email: "ada.byron@example.org", phone: "+44 20 7946 0958",
        address: .init(lines: ["12 Marlborough Terrace", "Flat 3"], city: "Kensingtonia", state: nil, postalCode: "W8 4QZ", countryCode: "GB"))

    static func order(_ id: String, country: String = "GB", products: [String] = ["print-4x6"], preferred: String? = nil) -> FulfillmentOrder {
        var r = recipient
        r.address.countryCode = country
        if country == "US" { r.address.state = "NY" }
        return FulfillmentOrder(orderId: id, reference: "#\(id)", shipping: .standard, recipient: r,
                                items: products.enumerated().map { .init(product: $1, quantity: $0 + 1, master: "masters/\(id)-\($0).jpg") },
                                preferredVendor: preferred)
    }

    static func vendor(_ countries: [String: Int], products: [String] = ["print-4x6"], cost: Double? = nil, baseURL: String = "http://127.0.0.1:9/x") -> VendorConfiguration {
        VendorConfiguration(adapter: .idempotencyKey, baseURL: baseURL, auth: .init(kind: .apiKey, apiKey: "k-secret"),
                            products: Dictionary(uniqueKeysWithValues: products.map { ($0, VendorConfiguration.Product(sku: "SKU-\($0)")) }),
                            countries: countries.mapValues { .init(priority: $0, cost: cost) })
    }

    static var logger: Logger {
        var logger = Logger(label: "fulfil-test")
        logger.logLevel = .warning
        return logger
    }
}
