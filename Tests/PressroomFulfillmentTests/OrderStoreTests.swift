import Foundation
@testable import PressroomFulfillment
import PressroomQueue
import Testing

@Suite("order store and transition script")
struct OrderStoreTests {
    func store() async throws -> (OrderStore, RedisClient) {
        let client = try await TestRedis.client()
        return (OrderStore(client: client, keys: OrderKeys(namespace: TestRedis.namespace())), client)
    }

    func events(_ client: RedisClient, _ store: OrderStore) async throws -> [[String: String]] {
        StreamEntry.parseEntries(try await client.call(["XRANGE", store.keys.events, "-", "+"])).map {
            Dictionary($0.fields ?? [], uniquingKeysWith: { a, _ in a })
        }
    }

    @Test func transitionsMoveForwardOnlyAndReplaysAreNoOps() async throws {
        let (store, client) = try await store()
        defer { client.shutdown() }
        let created = try await store.apply(OrderTransition(target: .received, expected: .create, set: [("reference", "#1")]), to: "A1")
        #expect(created.status == .created && created.version == 1)
        #expect(try await store.apply(OrderTransition(target: .received, expected: .create), to: "A1").status == .exists)
        #expect(try await store.apply(OrderTransition(target: .accepted, set: [("vendor_order_id", "v1")]), to: "A1").status == .applied)
        #expect(try await store.apply(OrderTransition(target: .accepted, set: [("vendor_order_id", "v2")]), to: "A1").status == .same, "a replay changes nothing")
        #expect(try await store.apply(OrderTransition(target: .shipped), to: "A1").status == .applied)
        let late = try await store.apply(OrderTransition(target: .inProduction), to: "A1")
        #expect(late.status == .stale && late.state == .shipped, "a late in_production after shipped is ignored")
        #expect(try await store.apply(OrderTransition(target: .cancelled), to: "A1").status == .stale, "nothing leaves a terminal state")
        let record = try #require(try await store.read("A1"))
        #expect(record.state == .shipped)
        #expect(record.vendorOrderID == "v1")
        #expect(record.ignoredTransitions == 2)
        #expect(record.stateTimes[.accepted] != nil && record.stateTimes[.shipped] != nil)
        let kinds = try await events(client, store).map { $0["event"] ?? "" }
        #expect(kinds == ["order.received", "order.accepted", "order.shipped"], "one event per applied transition, none for no-ops")
        let shipped = try await events(client, store).last ?? [:]
        #expect(shipped["id"] == "A1" && shipped["type"] == "order" && shipped["from"] == "accepted" && shipped["created_at"] != nil)
        // The index holds the order under its current state only.
        #expect(try await store.counts()[.shipped] == 1)
        #expect(try await store.counts()[.accepted] == 0)
        #expect(try await store.apply(OrderTransition(target: .accepted), to: "nope").status == .missing)
    }

    /// With a partitioned fulfil queue each order lives on the partition of
    /// its id, its follow-up job lands there too, and what looks across
    /// orders (indexes, counts, vendor references) sees every partition.
    @Test func ordersSpreadOverTheFulfilQueuesPartitions() async throws {
        let client = try await TestRedis.client()
        defer { client.shutdown() }
        let layout = QueuePartitions(namespace: TestRedis.namespace(), queue: "fulfill", count: 3)
        let store = OrderStore(client: client, keys: OrderKeys(partitions: layout))
        let ids = (0..<12).map { "P\($0)" }
        for (index, id) in ids.enumerated() {
            _ = try await store.apply(OrderTransition(target: .received, expected: .create, refs: [("lab|id|v-\(id)", id)],
                                                      job: WireFormat.fields(id: "{\(id)}:fulfill", type: "fulfill", payload: "{}")),
                                      to: id, now: 1_000 + Int64(index))
        }
        #expect(Set(ids.map { QueuePartitions.partition(ofJob: $0, count: 3) }).count == 3, "the ids cover every partition")
        for id in ids {
            let home = layout.keys(forJob: id)
            #expect(try await client.call(["HGET", home.scoped("order:" + id), "state"]).string == "received")
            #expect(home == layout.keys(forJob: "{\(id)}:fulfill"), "its fulfil job's partition")
            let jobs = StreamEntry.parseEntries(try await client.call(["XRANGE", home.stream, "-", "+"]))
            #expect(jobs.contains { $0.fields?.contains { $0 == ("id", "{\(id)}:fulfill") } == true })
            #expect(try await store.read(id)?.state == .received)
            #expect(try await store.orderID(vendor: "lab", vendorOrderID: "v-\(id)", key: nil) == id)
        }
        #expect(try await store.counts()[.received] == 12)
        #expect(try await store.orders(in: .received, enteredBefore: 2_000, limit: 5) == Array(ids.prefix(5)), "oldest first across partitions")
    }

    @Test func compareAndSetOnVersionAndState() async throws {
        let (store, client) = try await store()
        defer { client.shutdown() }
        _ = try await store.apply(OrderTransition(target: .received, expected: .create), to: "B1")
        let update = try await store.apply(OrderTransition(target: nil, expectedVersion: 1, set: [("intent:1", "{}")]), to: "B1")
        #expect(update.status == .applied && update.version == 2)
        #expect(try await store.apply(OrderTransition(target: nil, expectedVersion: 1, set: [("intent:1", "x")]), to: "B1").status == .conflict)
        #expect(try await store.apply(OrderTransition(target: .accepted, expected: .states([.submitting])), to: "B1").status == .conflict)
        #expect(try await store.read("B1")?.fields["intent:1"] == "{}")
        #expect(try await events(client, store).count == 1, "field updates publish nothing")
    }

    /// A chain runs its transitions in order in one call and stops at the first that does not
    /// apply: a record that exists already stops a create-route-intent chain before it routes.
    @Test func aChainStopsAtTheFirstTransitionThatDoesNotApply() async throws {
        let (store, client) = try await store()
        defer { client.shutdown() }
        func chain() -> [OrderTransition] {
            [OrderTransition(target: .received, expected: .create, set: [("payload", "p")]),
             OrderTransition(target: .routed, expected: .states([.received]), expectedVersion: 1, set: [("vendor", "lab")]),
             OrderTransition(target: .submitting, expectedVersion: 2, set: [("intent:1", "{}"), ("pending_intent", "1")])]
        }
        let first = try await store.apply(chain: chain(), to: "C1")
        #expect(first.map(\.status) == [.created, .applied, .applied])
        #expect(first.map(\.version) == [1, 2, 3])
        #expect(try await events(client, store).map { $0["event"] ?? "" } == ["order.received", "order.routed", "order.submitting"])
        let again = try await store.apply(chain: chain(), to: "C1")
        #expect(again.map(\.status) == [.exists], "the rest of the chain was not tried")
        let record = try #require(try await store.read("C1"))
        #expect(record.state == .submitting && record.version == 3 && record.pendingIntent == 1)
        // A conflict in the middle leaves the steps before it applied and the ones after it untried.
        let middle = try await store.apply(chain: [OrderTransition(target: nil, set: [("note", "a")]),
                                                   OrderTransition(target: nil, expectedVersion: 1, set: [("note", "b")]),
                                                   OrderTransition(target: nil, set: [("note", "c")])], to: "C1")
        #expect(middle.map(\.status) == [.applied, .conflict])
        #expect(try await store.read("C1")?.fields["note"] == "a")
        // What a create writes, as the submission path assumes before reading it back.
        let create = OrderTransition(target: .received, expected: .create, set: [("payload", "q"), ("payload_sha256", "d")])
        _ = try await store.apply(create, to: "C2", now: 42)
        let written = try #require(try await store.read("C2", timeline: false))
        let assumed = OrderRecord(creating: create, id: "C2", now: 42)
        #expect(assumed.fields == written.fields)
    }

    @Test func workflowStatesSlotIntoTheTable() async throws {
        // Issue 10's workflow adds states between received and routed.
        let client = try await TestRedis.client()
        defer { client.shutdown() }
        let machine = OrderStateMachine.standard.adding([.init(OrderState("rendering"), rank: 20), .init(OrderState("masters_ready"), rank: 30)])
        let store = OrderStore(client: client, keys: OrderKeys(namespace: TestRedis.namespace()), machine: machine)
        _ = try await store.apply(OrderTransition(target: .received, expected: .create), to: "W1")
        let fanIn = try await store.apply(OrderTransition(target: OrderState("rendering"), timeline: ["line": "0", "step": "render"],
                                                          job: WireFormat.fields(id: "{W1}:fulfill", type: "fulfill", payload: "{}")), to: "W1")
        #expect(fanIn.status == .applied)
        #expect(try await store.apply(OrderTransition(target: OrderState("masters_ready")), to: "W1").status == .applied)
        #expect(try await store.apply(OrderTransition(target: OrderState("rendering")), to: "W1").status == .stale)
        #expect(try await client.call(["XLEN", store.keys.jobs]).int == 1, "the follow-up job was enqueued in the same script")
        #expect(try await store.read("W1")?.timeline.first?["line"] == "0")
    }

    @Test func staleOrderScanFindsOldOnes() async throws {
        let (store, client) = try await store()
        defer { client.shutdown() }
        let old = OrderStore.nowMs() - 3_600_000
        _ = try await store.apply(OrderTransition(target: .received, expected: .create), to: "S1", now: old)
        _ = try await store.apply(OrderTransition(target: .submitting), to: "S1", now: old)
        _ = try await store.apply(OrderTransition(target: .received, expected: .create), to: "S2")
        _ = try await store.apply(OrderTransition(target: .submitting), to: "S2")
        #expect(try await store.orders(in: .submitting, enteredBefore: OrderStore.nowMs() - 60_000, limit: 10) == ["S1"])
    }
}
