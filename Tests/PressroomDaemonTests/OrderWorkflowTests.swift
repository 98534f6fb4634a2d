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
                      renderQueue: QueuePartitions(namespace: namespace, queue: "render"), ledger: nil)
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

    /// The dead-letter hook fails the order naming line and reason (once);
    /// a late dead letter of a line whose master is recorded changes nothing.
    @Test func aDeadLetteredRenderFailsItsOrderOnce() async throws {
        let client = RedisClient(endpoint: try RedisEndpoint(url: LifecycleHarness.redisURL), name: "ow-dead")
        defer { client.shutdown() }
        let flow = workflow(client)
        let id = "D1"
        let order = Self.order(id, lines: 2)
        _ = try await flow.fanOut(order, record: try await flow.record(order))
        try await flow.masterReady(order: id, line: 0, master: master(id, 0), startedAt: 1, finishedAt: 2)
        func notice(_ line: Int, _ reason: String) -> DeadLetterNotice {
            DeadLetterNotice(id: OrderWorkflow.renderJobID(order: id, line: line), type: RenderJob.type, queue: "render", reason: reason, errorClass: .transient)
        }
        await flow.deadLettered(notice(0, "poison: delivered 6 times without completing"), logger: .init(label: "test"))
        #expect(try await flow.store.read(id)?.state == .rendering, "line 0 has its master: its late dead letter is no failure")
        await flow.deadLettered(notice(1, "gave up after 1 attempts: timed out after 1ms"), logger: .init(label: "test"))
        await flow.deadLettered(notice(1, "gave up after 1 attempts: timed out after 1ms"), logger: .init(label: "test"))
        let failed = try #require(try await flow.store.read(id))
        #expect(failed.state == .failed)
        #expect(failed.failureReason == "line 1: gave up after 1 attempts: timed out after 1ms")
        #expect(failed.fields["failure_line"] == "1" && failed.fields["failure_stage"] == "render")
        #expect(failed.timeline.filter { $0["state"] == "failed" }.count == 1)
        // The replayed render's master re-opens it.
        try await flow.masterReady(order: id, line: 1, master: master(id, 1), startedAt: 3, finishedAt: 4)
        #expect(try await flow.store.read(id)?.state == .mastersReady)
    }

    /// reconcile's sweep: an order left in `rendering` whose line render is in
    /// the dead letters (the hook never ran) is failed; a replayed one (gone
    /// from the dead letters) and a young one are left alone.
    @Test func theSweepFailsOrdersWhoseLineRenderIsDeadLettered() async throws {
        let client = RedisClient(endpoint: try RedisEndpoint(url: LifecycleHarness.redisURL), name: "ow-sweep")
        defer { client.shutdown() }
        let flow = workflow(client)
        for id in ["S1", "S2"] {
            let order = Self.order(id, lines: 2)
            _ = try await flow.fanOut(order, record: try await flow.record(order))
        }
        let dead = QueueKeys(namespace: namespace, queue: "render").dead
        _ = try await client.call(["XADD", dead, "*", "id", OrderWorkflow.renderJobID(order: "S1", line: 1), "type", RenderJob.type,
                                   "dead_reason", "order S1 line 1: source missing", "dead_error_class", "permanent"])
        _ = try await client.call(["XADD", dead, "*", "id", "{other}:line:0", "type", RenderJob.type, "dead_reason", "not ours"])
        #expect(try await flow.failDeadLetteredRenders(olderThan: .seconds(3600), limit: 100).isEmpty, "younger than the bound")
        // A negative age puts the cutoff in the future: every order in rendering is old enough.
        let failed = try await flow.failDeadLetteredRenders(olderThan: .seconds(-60), limit: 100)
        #expect(failed.map(\.order) == ["S1"] && failed.first?.line == 1)
        let s1 = try #require(try await flow.store.read("S1"))
        #expect(s1.state == .failed && s1.failureReason == "line 1: source missing")
        #expect(try await flow.store.read("S2")?.state == .rendering)
        #expect(try await flow.failDeadLetteredRenders(olderThan: .seconds(-60), limit: 100).isEmpty, "nothing twice")
    }
}
