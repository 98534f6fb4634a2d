import Foundation
@testable import PressroomFulfillment
import PressroomQueue
import Testing

@Suite("routing and the circuit breaker")
struct RoutingAndBreakerTests {
    @Test func routingByCoverageThenPriorityThenCost() async throws {
        let router = Router(vendors: [
            "eu-cheap": Fixtures.vendor(["DE": 1, "GB": 2], cost: 3),
            "eu-dear": Fixtures.vendor(["DE": 1], cost: 5),
            "us": Fixtures.vendor(["US": 1, "DE": 3], products: ["print-4x6", "poster-a2"]),
        ])
        #expect(try router.candidates(for: Fixtures.order("r1", country: "DE")).map(\.name) == ["eu-cheap", "eu-dear", "us"])
        #expect(try router.candidates(for: Fixtures.order("r2", country: "DE", products: ["poster-a2"])).map(\.name) == ["us"])
        #expect(try router.candidates(for: Fixtures.order("r3", country: "DE", preferred: "us")).map(\.name).first == "us")
        #expect(throws: JobError.self) { try router.candidates(for: Fixtures.order("r4", country: "JP")) }
        do {
            _ = try router.candidates(for: Fixtures.order("r5", country: "GB", products: ["poster-a2"]))
            Issue.record("expected a permanent error")
        } catch let error as JobError {
            #expect(error.errorClass == .permanent && error.message.hasPrefix("items[0].product"))
        }
    }

    /// Two "processes": two breaker values on one vendor's key.
    static func twoProcesses(_ vendor: String, _ ns: String, _ settings: VendorConfiguration.Breaker, requestTimeout: Duration,
                             client: RedisClient) -> (CircuitBreaker, CircuitBreaker) {
        let make = { CircuitBreaker(vendor: vendor, namespace: ns, settings: settings, requestTimeout: requestTimeout, client: client) }
        return (make(), make())
    }

    @Test func openBreakerFailsOverWithAReasonAndABreakerOpensFleetWide() async throws {
        let client = try await TestRedis.client()
        defer { client.shutdown() }
        let ns = TestRedis.namespace()
        let settings = VendorConfiguration.Breaker(failureThreshold: 2, coolDown: .seconds(3))
        let (a1, a2) = Self.twoProcesses("printlab-eu", ns, settings, requestTimeout: .milliseconds(300), client: client)
        let b = CircuitBreaker(vendor: "printlab-us", namespace: ns, settings: settings, requestTimeout: .seconds(1), client: client)
        #expect(a1.key == "{\(ns):vendor:printlab-eu}:breaker")
        let router = Router(vendors: ["printlab-eu": Fixtures.vendor(["GB": 1]), "printlab-us": Fixtures.vendor(["GB": 2])])
        let breakers = ["printlab-eu": a1, "printlab-us": b]
        #expect(try await router.route(Fixtures.order("o1"), breakers: breakers, now: CircuitBreaker.nowMs()).choice?.decision.vendor == "printlab-eu")
        #expect(try await a1.recordFailure() == false)
        #expect(try await a2.recordFailure() == true, "the second consecutive failure, from another process, opens it")
        let routed = try await router.route(Fixtures.order("o2"), breakers: ["printlab-eu": a2, "printlab-us": b], now: CircuitBreaker.nowMs())
        #expect(routed.choice?.decision.vendor == "printlab-us")
        #expect(routed.choice?.decision.reason == "printlab-eu: open breaker; chose printlab-us, priority 2")
        // After the cool-down exactly one caller gets the probe.
        try await Task.sleep(for: .milliseconds(3100))
        let first = try await a1.acquire()
        let second = try await a2.acquire()
        #expect(first == .probe)
        if case .rejected = second {} else { Issue.record("a second probe was let through: \(second)") }
        try await a1.recordSuccess()
        #expect(try await a2.acquire() == .allowed, "a successful probe closes it for everyone")
        #expect(try await router.route(Fixtures.order("o3"), breakers: breakers, now: CircuitBreaker.nowMs()).choice?.decision.vendor == "printlab-eu")
        // A failed probe reopens it.
        _ = try await a1.recordFailure(); _ = try await a1.recordFailure()
        try await Task.sleep(for: .milliseconds(3100))
        #expect(try await a1.acquire() == .probe)
        #expect(try await a1.recordFailure() == true)
        #expect(try await a1.snapshot().state == .open)
    }

    /// A success is sent only when there may be failures to reset: after an admission that saw
    /// none it is skipped, and a failure another process recorded meanwhile is reset by the next
    /// success whose admission saw it.
    @Test func successesResetOnlyWhatTheirAdmissionSaw() async throws {
        let client = try await TestRedis.client()
        defer { client.shutdown() }
        let ns = TestRedis.namespace()
        let settings = VendorConfiguration.Breaker(failureThreshold: 3, coolDown: .seconds(30))
        let (mine, other) = Self.twoProcesses("lab", ns, settings, requestTimeout: .seconds(1), client: client)
        #expect(try await mine.acquire() == .allowed)
        _ = try await other.recordFailure()
        #expect(try await mine.recordSuccess() == false)
        #expect(try await mine.snapshot().failures == 1, "admitted before that failure: nothing was sent")
        #expect(try await mine.acquire() == .allowed)
        _ = try await mine.recordSuccess()
        #expect(try await mine.snapshot().failures == 0, "admitted after it: reset")
        _ = try await mine.recordFailure()
        _ = try await mine.recordSuccess()
        #expect(try await mine.snapshot().failures == 0, "its own failure is always reset by its next success")
    }

    @Test func keysAreStableAndFitEveryVendor() {
        let key = IdempotencyKey.derive(orderID: "A1001", vendor: "printful-main")
        #expect(key == IdempotencyKey.derive(orderID: "A1001", vendor: "printful-main"))
        #expect(key != IdempotencyKey.derive(orderID: "A1001", vendor: "gelato"))
        #expect(key.hasPrefix("A1001-"))
        // Pinned: a key that changed between versions would let a retry create a second vendor order
        // (values from the derivation's definition, computed with Python's hashlib and base64).
        #expect(key == "A1001-YTygxON5r24")
        #expect(IdempotencyKey.derive(orderID: "{ord}ér #7/x", vendor: "lab") == "ordr7x-hPuD0pDic2W")
        for id in ["A1001", String(repeating: "x", count: 90), "#1001/é{x}", "ä"] {
            let k = IdempotencyKey.derive(orderID: id, vendor: "v")
            #expect(k.count <= 32)
            #expect(k.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }, "\(k)")
        }
    }

    @Test func redactionScrubsPersonalDataAndSecrets() {
        let redact = Redactor(Fixtures.recipient.personalValues + ["k-secret"])
        let text = redact(#"{"error":"bad address 12 Marlborough Terrace for Ada Lovelace-Byron <ada.byron@example.org>","key":"k-secret"}"#)
        #expect(!text.contains("Marlborough") && !text.contains("Ada") && !text.contains("example.org") && !text.contains("k-secret"))
    }
}
