import Foundation
@testable import PressroomDaemon
import PressroomFulfillment
import PressroomImaging
import PressroomQueue
import Testing

/// The order workflow's transitions on a real redis-server, called directly:
/// the fan-in under concurrency, failure and re-opening.
@Suite struct OrderWorkflowTests {
    let namespace = "ow-\(UUID().uuidString.prefix(8))"

    func workflow(_ client: RedisClient) -> OrderWorkflow {
        OrderWorkflow(store: OrderStore(client: client, keys: OrderKeys(namespace: namespace), machine: .workflow, redisPatience: .seconds(5)),
                      renderKeys: QueueKeys(namespace: namespace, queue: "render"), ledger: nil)
    }

    static func order(_ id: String, lines: Int) -> ShopOrder {
        ShopOrder(orderId: id, reference: "#\(id)", shipping: .standard,
                  recipient: .init(name: "Ada Lovelace", address: .init(lines: ["12 St James's Square"], city: "London", postalCode: "SW1Y 4JH", countryCode: "GB")),
                  lines: (0..<lines).map { .init(source: "uploads/\(id)-\($0).jpg", product: "print-4x6", crop: nil, quantity: 1 + $0, sku: nil) })
    }

    func master(_ id: String, _ line: Int) -> OrderWorkflow.Master {
        .init(key: "masters/\(id)/\(line).jpg", sha256: String(repeating: "a", count: 64), bytes: 1000 + Int64(line))
    }

    /// Fulfil jobs on the fulfil stream for an order id.
    func fulfilJobs(_ client: RedisClient, _ id: String) async throws -> [[String: String]] {
        StreamEntry.parseEntries(try await client.call(["XRANGE", QueueKeys(namespace: namespace, queue: "fulfill").stream, "-", "+"]))
            .map { Dictionary($0.fields ?? [], uniquingKeysWith: { a, _ in a }) }
            .filter { $0["id"] == OrderWorkflow.fulfilJobID(order: id) }
    }

    @Test func theLastTwoMastersRecordedAtOnceEnqueueExactlyOneFulfil() async throws {
        let client = RedisClient(endpoint: try RedisEndpoint(url: LifecycleHarness.redisURL), name: "ow-race")
        defer { client.shutdown() }
        let flow = workflow(client)
        for round in 0..<40 {
            let id = "R\(round)"
            let order = Self.order(id, lines: 3)
            let record = try await flow.record(order)
            _ = try await flow.fanOut(order, record: record)
            try await flow.masterReady(order: id, line: 0, master: master(id, 0), startedAt: 1, finishedAt: 2)
            // The last two at the same moment, each also redelivered (four concurrent calls).
            try await withThrowingTaskGroup(of: Void.self) { group in
                for line in [1, 2, 1, 2] {
                    group.addTask { try await flow.masterReady(order: id, line: line, master: master(id, line), startedAt: 1, finishedAt: 2) }
                }
                try await group.waitForAll()
            }
            let jobs = try await fulfilJobs(client, id)
            #expect(jobs.count == 1, "round \(round): \(jobs.count) fulfil jobs")
            let done = try #require(try await flow.store.read(id))
            #expect(done.state == .mastersReady)
            let payload = try #require(jobs.first?["payload"])
            let fulfil = try JSONDecoder().decode(FulfillmentOrder.self, from: Data(payload.utf8))
            #expect(fulfil.items.map(\.master) == (0..<3).map { master(id, $0).key })
            #expect(fulfil.items.map(\.quantity) == [1, 2, 3])
            #expect(done.payloadDigest == Fulfillment.digest(fulfil), "the fulfil job matches the record it will find")
        }
        let rendering = try await client.call(["XLEN", QueueKeys(namespace: namespace, queue: "render").stream]).int
        #expect(rendering.map { Int($0) } == 120, "one render per line, fanned out once")
    }

    @Test func aRedeliveredOrderJobMatchesAndADifferentPayloadIsAConflict() async throws {
        let client = RedisClient(endpoint: try RedisEndpoint(url: LifecycleHarness.redisURL), name: "ow-match")
        defer { client.shutdown() }
        let flow = workflow(client)
        let order = Self.order("M1", lines: 2)
        let first = try await flow.record(order)
        #expect(first.state == .paid)
        let fanned = try await flow.fanOut(order, record: first)
        #expect(fanned.state == .rendering && fanned.enqueued.count == 2)
        let again = try await flow.record(order)
        #expect(again.state == .rendering && again.version == first.version + 1)
        var other = order
        other.lines[0].quantity = 9
        await #expect(throws: JobError.self) { _ = try await flow.record(other) }
        do {
            _ = try await flow.record(other)
        } catch let error as JobError {
            #expect(error.errorClass == .permanent && error.message.contains("different payload"))
        }
    }

    @Test func aFailedLineFailsTheOrderAndItsReplayReopensIt() async throws {
        let client = RedisClient(endpoint: try RedisEndpoint(url: LifecycleHarness.redisURL), name: "ow-fail")
        defer { client.shutdown() }
        let flow = workflow(client)
        let id = "F1"
        let order = Self.order(id, lines: 3)
        _ = try await flow.fanOut(order, record: try await flow.record(order))
        try await flow.lineFailed(order: id, line: 1, reason: "source object 'uploads/F1-1.jpg' does not exist")
        try await flow.lineFailed(order: id, line: 2, reason: "below the minimum")
        var record = try #require(try await flow.store.read(id))
        #expect(record.state == .failed)
        #expect(record.failureReason == "line 1: source object 'uploads/F1-1.jpg' does not exist")
        try await flow.masterReady(order: id, line: 0, master: master(id, 0), startedAt: 1, finishedAt: 2)
        // Line 1 replayed and rendered: the order stays failed, now on line 2.
        try await flow.masterReady(order: id, line: 1, master: master(id, 1), startedAt: 1, finishedAt: 2)
        record = try #require(try await flow.store.read(id))
        #expect(record.state == .failed && record.failureReason == "line 2: below the minimum")
        #expect(try await fulfilJobs(client, id).isEmpty)
        // Line 2 replayed: every line is done, so the order re-opens straight to masters_ready.
        try await flow.masterReady(order: id, line: 2, master: master(id, 2), startedAt: 1, finishedAt: 2)
        record = try #require(try await flow.store.read(id))
        #expect(record.state == .mastersReady && record.failureReason == nil)
        #expect(try await fulfilJobs(client, id).count == 1)
        let events = StreamEntry.parseEntries(try await client.call(["XRANGE", QueueKeys(namespace: namespace, queue: "fulfill").events, "-", "+"]))
            .map { Dictionary($0.fields ?? [], uniquingKeysWith: { a, _ in a }) }.filter { $0["id"] == id }
        #expect(events.map { $0["event"] ?? "" } == ["order.paid", "order.rendering", "order.failed", "order.masters_ready"])
        #expect(events[2]["line"] == "1")
    }

    @Test func anOrderThatReachedAVendorIsNeverReopened() async throws {
        let client = RedisClient(endpoint: try RedisEndpoint(url: LifecycleHarness.redisURL), name: "ow-vendor")
        defer { client.shutdown() }
        let flow = workflow(client)
        let id = "V1"
        let order = Self.order(id, lines: 1)
        _ = try await flow.fanOut(order, record: try await flow.record(order))
        try await flow.masterReady(order: id, line: 0, master: master(id, 0), startedAt: 1, finishedAt: 2)
        _ = try await flow.store.apply(OrderTransition(target: .failed, set: [("failure_reason", "lab rejected the order")]), to: id)
        try await flow.lineFailed(order: id, line: 0, reason: "late failure")
        try await flow.masterReady(order: id, line: 0, master: master(id, 0), startedAt: 1, finishedAt: 2)
        let record = try #require(try await flow.store.read(id))
        #expect(record.state == .failed && record.failureReason == "lab rejected the order")
        #expect(try await fulfilJobs(client, id).count == 1)
    }
}
