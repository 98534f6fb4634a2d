import Foundation
import Logging
@testable import PressroomDaemon
import PressroomFulfillment
import PressroomQueue
import Testing

/// CPU time the engine attributes to each run, rolled up per upload and per order.
@Suite struct CostTests {
    @Test func derivesAndRendersAreChargedToTheUploadAndTheOrder() async throws {
        let h = try LifecycleHarness()
        try await h.put("uploads/a.jpg", LifecycleHarness.photo)
        var logger = Logger(label: "cost-test")
        logger.logLevel = .warning
        let costs = h.lifecycle.costs
        let worker = QueueWorker(
            configuration: .init(endpoint: try RedisEndpoint(url: LifecycleHarness.redisURL), namespace: h.namespace, consumer: "cost-\(h.namespace)",
                                 queues: h.configuration.queueOptions, drainTimeout: .seconds(5), delayedPollInterval: .milliseconds(50)),
            registry: h.registry, logger: logger, observer: { run in await costs.observe(run) })
        let task = Task { _ = try? await worker.run() }
        try await QueueAdmin.enqueue(keys: h.queueKeys("derive"), client: h.redis, id: "d-a", type: "derive", payload: #"{"source":"uploads/a.jpg"}"#)
        // The order id comes from the job id's {tag}, as the order workflow derives them.
        try await QueueAdmin.enqueue(keys: h.queueKeys("render"), client: h.redis, id: "{A1001}:render:0", type: "render",
                                     payload: #"{"source":"uploads/a.jpg","policy":"sticker-small"}"#)
        try await QueueAdmin.enqueue(keys: h.queueKeys("render"), client: h.redis, id: "r-named", type: "render",
                                     payload: #"{"source":"uploads/a.jpg","policy":"sticker-small","order":"B7","crop":{"x":0,"y":0,"width":0.9,"height":0.9}}"#)
        try await eventually(timeout: .seconds(60), "costs recorded") {
            let record = try await h.lifecycle.ledger.record(upload: "uploads/a.jpg")
            return record["runs"] == "3"
        }
        worker.stop()
        await task.value
        let record = try await h.lifecycle.ledger.record(upload: "uploads/a.jpg")
        #expect((Double(record["cpu_seconds"] ?? "") ?? 0) > 0)
        #expect((Double(record["intake_cpu_seconds"] ?? "") ?? 0) > 0, "the intake cost was observed once")
        #expect(record["derived_at"] != nil && record["ordered_at"] != nil)
        #expect((Int(record["bytes_written"] ?? "") ?? 0) > 0)
        let first = try await h.lifecycle.orders.cost(order: "A1001")
        #expect((Double(first["cpu_seconds"] ?? "") ?? 0) > 0)
        #expect(first["runs"] == "1")
        #expect((Int(first["bytes_written"] ?? "") ?? 0) > 0, "the master's bytes")
        let named = try await h.lifecycle.orders.cost(order: "B7")
        #expect(named["runs"] == "1")
        #expect((Int(named["bytes_written"] ?? "") ?? 0) > 0)
        #expect(CostRecorder.orderTag("{A1001}:fulfill") == "A1001")
        #expect(CostRecorder.orderTag("plain-id") == nil)
        // Only payloads that may name a source or an order are decoded for them.
        #expect(CostRecorder.mentionsAName(Data(#"{"order":"B7","x":1}"#.utf8)))
        #expect(CostRecorder.mentionsAName(Data(#"{"source":"uploads/a.jpg"}"#.utf8)))
        #expect(CostRecorder.mentionsAName(Data(#"{"\u006frder":"B7"}"#.utf8)), "an escaped key is decoded to find out")
        #expect(!CostRecorder.mentionsAName(Data(#"{"orderId":"B7","items":[]}"#.utf8)))
    }

    /// One script charges a run and, once the order is settled, copies its cost onto the
    /// record, once; until then, and for runs that do not settle, it only charges.
    @Test func anOrdersCostIsSettledOnceWhenItsStateIsFinal() async throws {
        let h = try LifecycleHarness()
        let orders = h.lifecycle.orders
        let store = OrderStore(client: h.redis, keys: orders.keys, redisPatience: .seconds(5))
        #expect(try await orders.charge(order: "C9", cpuSeconds: 0.25, settle: true) == nil, "no record: nothing to settle")
        #expect(try await store.apply(OrderTransition(target: .received, expected: .create, set: [("intent_seq", "2")]), to: "C9").status == .created)
        #expect(try await orders.charge(order: "C9", cpuSeconds: 0.5, settle: true) == nil, "received is not settled")
        _ = try await store.apply(OrderTransition(target: .accepted), to: "C9")
        let version = try #require(try await store.read("C9")).version
        #expect(try await orders.charge(order: "C9", cpuSeconds: 0.125, settle: false) == nil, "a run that does not settle only charges")
        try await orders.addWritten(order: "C9", bytes: 4096)
        #expect(try await orders.charge(order: "C9", cpuSeconds: 0.125, settle: true) == 1.0)
        #expect(try await orders.charge(order: "C9", cpuSeconds: 0.5, settle: true) == nil, "settled once")
        let record = try #require(try await store.read("C9"))
        #expect(record.fields["cost_cpu_seconds"] == "1.000000" && record.fields["cost_runs"] == "4")
        #expect(record.fields["cost_bytes_written"] == "4096" && record.fields["cost_vendor_calls"] == "2")
        #expect(record.version == version + 1 && record.state == .accepted, "a write of the record, no transition")
        let cost = try await orders.cost(order: "C9")
        #expect(cost["runs"] == "5" && cost["vendor_calls"] == "2" && cost["settled_at"] != nil, "later runs still count")
        #expect(orders.keys.cost("C9").hasPrefix("{\(h.namespace):fulfill}:"), "in the order record's slot")
    }
}
