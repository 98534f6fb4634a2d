import Foundation
import Logging
@testable import PressroomDaemon
import PressroomQueue
import Testing

/// Per-shop token buckets, through the real engine: over-quota jobs are
/// deferred (same attempt), run once their bucket refills, and are
/// dead-lettered with reason "quota" past `quotas.maxWait`.
@Suite struct QuotaTests {
    func worker(_ h: LifecycleHarness) throws -> (QueueWorker, Task<Void, Never>) {
        var logger = Logger(label: "quota-test")
        logger.logLevel = .warning
        let worker = QueueWorker(
            configuration: .init(endpoint: try RedisEndpoint(url: LifecycleHarness.redisURL), namespace: h.namespace, consumer: "quota-\(h.namespace)",
                                 queues: h.configuration.queueOptions, drainTimeout: .seconds(5), delayedPollInterval: .milliseconds(50)),
            registry: h.registry, logger: logger)
        let task = Task { _ = try? await worker.run() }
        return (worker, task)
    }

    func enqueue(_ h: LifecycleHarness, _ count: Int, shop: String) async throws -> [String] {
        let ids = (0..<count).map { "q-\(shop)-\($0)" }
        for id in ids {
            try await QueueAdmin.enqueue(keys: h.queueKeys("derive"), client: h.redis, id: id, type: "sleep", payload: #"{"ms":0,"shop":"\#(shop)"}"#)
        }
        return ids
    }

    @Test func overQuotaJobsWaitForTheBucketThenRun() async throws {
        let h = try LifecycleHarness(configure: { c in
            c.diagnostics = true
            c.quotas.shops = ["acme": .init(jobsPerMinute: ["sleep": 6])]  // one every 10 s
        })
        let (worker, task) = try worker(h)
        try await eventually(timeout: .seconds(60), "worker ready") { worker.phase == .ready }
        // acme has used its burst already: its bucket is empty as of now (set
        // once the worker is up, so a slow start cannot refill it first).
        try await h.redis.call(["HSET", h.queueKeys("derive").scoped("quota:jobs:sleep:acme"), "tokens", "0", "ts", String(UploadLedger.nowMs())])
        let ids = try await enqueue(h, 3, shop: "acme")
        // Another shop is not held up by acme's backlog.
        let other = try await enqueue(h, 3, shop: "globex")
        try await eventually(timeout: .seconds(90), "every job succeeded") {
            Set(try await h.events("derive").filter { $0["event"] == "succeeded" }.compactMap { $0["id"] }).isSuperset(of: ids + other)
        }
        worker.stop()
        await task.value
        let events = try await h.events("derive")
        let deferred = events.filter { $0["event"] == "deferred" }
        #expect(!deferred.isEmpty, "the jobs past the burst were deferred")
        #expect(deferred.allSatisfy { ($0["reason"] ?? "").hasPrefix("quota: shop 'acme'") })
        #expect(deferred.allSatisfy { $0["attempt"] == "1" }, "a deferral keeps the attempt number")
        #expect(!deferred.contains { ($0["id"] ?? "").hasPrefix("q-globex") })
        #expect(try await h.redis.call(["XLEN", h.queueKeys("derive").dead]).int == 0)
    }

    @Test func pastTheMaximumWaitAJobIsDeadLetteredWithReasonQuota() async throws {
        let h = try LifecycleHarness(configure: { c in
            c.diagnostics = true
            c.quotas.maxWait = DurationText(.seconds(2))
            c.quotas.defaults = .init(jobsPerMinute: ["sleep": 1])  // one a minute: the second would wait ~60 s
        })
        let (worker, task) = try worker(h)
        _ = try await enqueue(h, 2, shop: "tiny")
        try await eventually(timeout: .seconds(20), "a dead letter") { (try await h.redis.call(["XLEN", h.queueKeys("derive").dead]).int ?? 0) == 1 }
        worker.stop()
        await task.value
        let dead = try await h.stream(h.queueKeys("derive").dead)
        #expect(dead.first?["dead_reason"]?.hasPrefix("quota: shop 'tiny' is over its 1 sleep jobs per minute") == true, "\(dead)")
        #expect(try await h.events("derive").filter { $0["event"] == "succeeded" }.count == 1)
    }

    @Test func bytesPerDayAreChargedFromTheHeadBeforeDownloading() async throws {
        let photo = LifecycleHarness.photo
        let h = try LifecycleHarness(configure: { c in
            c.quotas.shops = ["acme": .init(bytesPerDay: Int64(photo.count) * 3 / 2)]
        })
        try await h.put("uploads/a.jpg", photo)
        try await h.put("uploads/b.jpg", LifecycleHarness.photo + Data(count: 10))
        _ = try await h.run("derive", payload: #"{"source":"uploads/a.jpg","shop":"acme"}"#)
        do {
            _ = try await h.run("derive", payload: #"{"source":"uploads/b.jpg","shop":"acme"}"#)
            Issue.record("the second photo fit in the day's bytes")
        } catch let deferral as JobDeferral {
            #expect(deferral.reason.contains("source bytes per day"))
            #expect(deferral.reasonClass == "quota")
            #expect(deferral.delay > .seconds(3600), "a day's bucket refills slowly")
        }
        // A source larger than a whole day's bytes can never run: dead-lettered at once.
        try await h.put("uploads/huge.jpg", LifecycleHarness.photo + LifecycleHarness.photo)
        let error = try await h.failure("derive", payload: #"{"source":"uploads/huge.jpg","shop":"acme"}"#)
        #expect(error.errorClass == .permanent)
        #expect(error.message.hasPrefix("quota:"))
        let invalid = try await h.failure("derive", payload: #"{"source":"uploads/a.jpg","shop":"no spaces allowed"}"#)
        #expect(invalid.message.contains("payload.shop"))
    }
}
