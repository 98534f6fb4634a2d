import Foundation
@testable import PressroomFulfillment
import PressroomQueue
import Testing

/// Every adapter against the strict test vendor: real HTTP, real Redis,
/// masters downloaded by the vendor from ministack through presigned URLs.
@Suite("adapters against the test vendor")
struct AdapterTests {
    static let adapters: [VendorConfiguration.Adapter] = [.idempotencyKey, .prodigi, .printful, .gelato]

    /// Accept, then hang past our timeout (or drop the connection): the first
    /// attempt cannot know, the retry resolves it, and the vendor holds one order.
    @Test(arguments: adapters, ["hang-after-accept", "drop-after-accept"])
    func theAmbiguousCaseMakesExactlyOneVendorOrder(adapter: VendorConfiguration.Adapter, fault: String) async throws {
        let vendor = try TestVendor.running()
        let account = try await vendor.account()
        // The vendor holds a hung answer until we hang up (or 60 s): our 3 s timeout fires first.
        let h = try await Harness(vendors: ["lab": vendor.vendor(adapter, account, timeout: .seconds(3))])
        defer { h.client.shutdown() }
        try await vendor.fault(account, ["operation": "create", "action": fault, "count": 1, "holdMs": 60000])
        let order = Fixtures.order("amb-\(UUID().uuidString.prefix(6))")
        let first = await h.attempt(order, 1)
        #expect(first.error?.errorClass == .transient, "\(first)")
        let pending = try await h.record(order.orderId)
        #expect(pending.state == .submitting && pending.pendingIntent != nil, "the intent stays unresolved")
        // Retries may meet the vendor's 409 while it still handles the hung request; they resolve it.
        let second = try #require(await h.retried(order, from: 2).value, "the retry resolves it")
        #expect(second.state == .accepted)
        let third = try #require(await h.attempt(order, 20).value)
        #expect(third.how == "already accepted")
        let key = IdempotencyKey.derive(orderID: order.orderId, vendor: "lab")
        let stats = try await vendor.stats(account)
        let printable = try await vendor.orders(account).filter { ($0["status"] as? String) != "draft" }
        #expect(printable.count == 1, "exactly one order the vendor will print: \(stats)")
        if adapter != .gelato {
            #expect(try await vendor.ordersCreated(account, key: key) == 1, "exactly one vendor order: \(stats)")
        } else {
            // Gelato: a create that was still running at the vendor when we gave up could
            // leave a second, never-confirmed draft; the settle time makes that rare, and
            // a draft is never printed.
            #expect(try await vendor.ordersCreated(account, key: key) <= 2, "\(stats)")
        }
        let record = try await h.record(order.orderId)
        #expect(record.vendorOrderID == second.vendorOrderId && record.pendingIntent == nil)
        #expect(record.intents.count >= 2 && record.results.first?.outcome == .ambiguous && record.results.last?.outcome == .accepted)
        // The vendor downloaded and verified every master through its presigned URL.
        let assets = try await vendor.orders(account).flatMap { $0["assets"] as? [[String: Any]] ?? [] }
        #expect(!assets.isEmpty && assets.allSatisfy { ($0["downloaded"] as? Bool) == true })
    }

    /// A first attempt skips reading the record; one that exists after all
    /// (the same order sent twice, or racing) stops the first script call
    /// before anything is decided, and the order is taken up from what is stored.
    @Test func aFirstAttemptThatFindsTheOrderRecordedTakesItUpFromTheRecord() async throws {
        let vendor = try TestVendor.running()
        let account = try await vendor.account()
        let h = try await Harness(vendors: ["lab": vendor.vendor(.idempotencyKey, account)])
        defer { h.client.shutdown() }
        let order = Fixtures.order("again-\(UUID().uuidString.prefix(6))")
        let first = try #require(await h.attempt(order, 1, probablyNew: true).value)
        #expect(first.state == .accepted && first.how != "already accepted")
        let events = try await h.events().count
        let version = try await h.record(order.orderId).version
        let again = try #require(await h.attempt(order, 1, probablyNew: true).value)
        #expect(again.how == "already accepted" && again.vendorOrderId == first.vendorOrderId)
        let record = try await h.record(order.orderId)
        #expect(record.intents.count == 1 && record.version == version)
        #expect(try await h.events().count == events, "taking it up changed nothing")
        #expect(try await vendor.ordersCreated(account, key: IdempotencyKey.derive(orderID: order.orderId, vendor: "lab")) == 1)
        // Another order under the same id is still refused, as after a read.
        var other = order
        other.reference = "another order"
        let refused = try #require(await h.attempt(other, 1, probablyNew: true).error)
        #expect(refused.errorClass == .permanent && refused.message.contains("different payload"), "\(refused)")
    }

    @Test(arguments: adapters)
    func validationErrorsAreDefiniteWithTheVendorsFieldPathsAndNoPersonalData(adapter: VendorConfiguration.Adapter) async throws {
        let vendor = try TestVendor.running()
        let account = try await vendor.account()
        let h = try await Harness(vendors: ["lab": vendor.vendor(adapter, account)])
        defer { h.client.shutdown() }
        try await vendor.fault(account, ["operation": "create", "action": "validation", "count": 1])
        let order = Fixtures.order("val-\(UUID().uuidString.prefix(6))")
        let error = try #require(await h.attempt(order).error)
        #expect(error.errorClass == .permanent, "\(error)")
        #expect(error.message.contains("lab"), "\(error.message)")
        for value in Fixtures.recipient.personalValues + account.secrets { #expect(!error.message.contains(value), "\(value) leaked: \(error.message)") }
        let record = try await h.record(order.orderId)
        #expect(record.state == .failed && record.failureReason?.contains("rejected") == true)
        #expect(try await vendor.ordersCreated(account, key: IdempotencyKey.derive(orderID: order.orderId, vendor: "lab")) == 0)
        #expect(await h.attempt(order, 2).error?.message.contains("failed earlier") == true, "a failed order is never resent")
    }

    @Test(arguments: adapters)
    func rateLimitsDelayByRetryAfter(adapter: VendorConfiguration.Adapter) async throws {
        let vendor = try TestVendor.running()
        let account = try await vendor.account()
        let h = try await Harness(vendors: ["lab": vendor.vendor(adapter, account)])
        defer { h.client.shutdown() }
        try await vendor.fault(account, ["operation": "any", "action": "rate-limit", "retryAfter": 7, "count": 1])
        let order = Fixtures.order("rl-\(UUID().uuidString.prefix(6))")
        let error = try #require(await h.attempt(order).error)
        #expect(error.errorClass == .transient && error.retryAfter == .seconds(7), "\(error)")
        #expect(await h.attempt(order, 2).value?.state == .accepted)
        #expect(try await vendor.ordersCreated(account, key: IdempotencyKey.derive(orderID: order.orderId, vendor: "lab")) == 1)
    }

    @Test(arguments: adapters)
    func serverErrorsAreTransientAndCountAgainstTheBreaker(adapter: VendorConfiguration.Adapter) async throws {
        let vendor = try TestVendor.running()
        let account = try await vendor.account()
        let h = try await Harness(vendors: ["lab": vendor.vendor(adapter, account, breaker: .init(failureThreshold: 1, coolDown: .seconds(4)))])
        defer { h.client.shutdown() }
        try await vendor.fault(account, ["operation": "any", "action": "status", "status": 503, "count": 1])
        let order = Fixtures.order("5xx-\(UUID().uuidString.prefix(6))")
        #expect(await h.attempt(order).error?.errorClass == .transient)
        #expect(try await h.fulfillment.breakers["lab"]!.snapshot().state == .open)
        let waiting = try #require(await h.attempt(order, 2).error)
        #expect(waiting.message.contains("never sent elsewhere"), "\(waiting.message)")
        try await Task.sleep(for: .milliseconds(4100))
        #expect(await h.attempt(order, 3).value?.state == .accepted, "the probe succeeds and closes the breaker")
        #expect(try await h.fulfillment.breakers["lab"]!.snapshot().state == .closed)
        #expect(try await vendor.ordersCreated(account, key: IdempotencyKey.derive(orderID: order.orderId, vendor: "lab")) == 1)
    }

    @Test func oauthTokensAreRefreshedOnceAfterA401() async throws {
        let vendor = try TestVendor.running()
        let account = try await vendor.account()
        let h = try await Harness(vendors: ["lab": vendor.vendor(.idempotencyKey, account, auth: .oauth2)])
        defer { h.client.shutdown() }
        let first = Fixtures.order("oa1-\(UUID().uuidString.prefix(6))")
        #expect(await h.attempt(first).value?.state == .accepted)
        try await vendor.fault(account, ["operation": "create", "action": "unauthorized", "count": 1])
        let second = Fixtures.order("oa2-\(UUID().uuidString.prefix(6))")
        #expect(await h.attempt(second).value?.state == .accepted, "refreshed and retried within one attempt")
        let requests = try await vendor.stats(account)["requests"] as? [String: Any] ?? [:]
        #expect((requests["token"] as? NSNumber)?.intValue == 2, "one token, then one refresh: \(requests)")
        // Refused twice: permanent.
        try await vendor.fault(account, ["operation": "create", "action": "unauthorized", "count": 2])
        let third = Fixtures.order("oa3-\(UUID().uuidString.prefix(6))")
        let error = try #require(await h.attempt(third).error)
        #expect(error.errorClass == .permanent && error.message.contains("after a token refresh"), "\(error)")
        #expect(!error.message.contains(account.clientSecret))
    }

    @Test func expiredTokensAreRefreshedBeforeUse() async throws {
        let vendor = try TestVendor.running()
        let account = try await vendor.account(tokenTTL: 2)
        var configuration = vendor.vendor(.prodigi, account, auth: .oauth2)
        configuration.auth.refreshBefore = .init(.seconds(1))
        let h = try await Harness(vendors: ["lab": configuration])
        defer { h.client.shutdown() }
        #expect(await h.attempt(Fixtures.order("ex1-\(UUID().uuidString.prefix(6))")).value != nil)
        try await Task.sleep(for: .milliseconds(1200))
        #expect(await h.attempt(Fixtures.order("ex2-\(UUID().uuidString.prefix(6))")).value != nil)
        let stats = try await vendor.stats(account)
        #expect(((stats["statuses"] as? [String: Any])?["401"] as? NSNumber)?.intValue ?? 0 == 0, "no request was sent with a stale token: \(stats)")
    }
}
