import Foundation
import Logging
@testable import PressroomDaemon
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
        let first = try await h.lifecycle.ledger.orderCost(order: "A1001")
        #expect((Double(first["cpu_seconds"] ?? "") ?? 0) > 0)
        #expect(first["runs"] == "1")
        #expect((Int(first["bytes_written"] ?? "") ?? 0) > 0, "the master's bytes")
        let named = try await h.lifecycle.ledger.orderCost(order: "B7")
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
}
