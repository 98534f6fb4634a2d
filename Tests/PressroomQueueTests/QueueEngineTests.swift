import Foundation
@testable import PressroomQueue
import Testing

@Suite("Queue engine against a real redis-server")
struct QueueEngineTests {
    @Test func runsJobsPublishesEventsAndSkipsDuplicates() async throws {
        let h = try await Harness(namespace: TestRedis.namespace(), queues: [QueueOptions(name: "q", concurrency: 4)])
        let recorder = Recorder()
        let w = h.worker(consumer: "c1", registry: registry([("t", "q")]) { ctx in
            recorder.record(ctx.job.id)
            return Data(#"{"echo":\#(String(decoding: ctx.job.payload, as: UTF8.self))}"#.utf8)
        })
        try await w.waitReady()
        for i in 0..<20 { try await h.enqueue("q", id: "job-\(i)", payload: #"{"n":\#(i)}"#) }
        try await eventually { recorder.total == 20 }
        // The same id again (duplicate enqueue) is acknowledged without running.
        try await h.enqueue("q", id: "job-3", payload: #"{"n":3}"#)
        try await eventually("duplicate acknowledged") {
            let status = try await QueueAdmin.status(keys: h.keys("q"), client: h.client)
            return status.pending == 0 && status.lag == 0
        }
        try await Task.sleep(for: .milliseconds(200))
        #expect(recorder.count("job-3") == 1)
        #expect(recorder.total == 20)
        let events = try await h.events("q")
        let succeeded = events.filter { $0["event"] == "succeeded" }
        #expect(succeeded.count == 20)
        let e5 = try #require(succeeded.first { $0["id"] == "job-5" })
        #expect(e5["result"] == #"{"echo":{"n":5}}"#)
        #expect(e5["consumer"] == "c1")
        let done = try await QueueAdmin.completedRecord(keys: h.keys("q"), client: h.client, jobID: "job-5")
        #expect(done?.contains(#""status":"succeeded""#) == true)
        await w.stop()
    }

    @Test func transientFailuresAreRetriedWithBackoffThenDeadLettered() async throws {
        let h = try await Harness(namespace: TestRedis.namespace(), queues: [QueueOptions(name: "q", concurrency: 2)])
        let recorder = Recorder()
        let w = h.worker(consumer: "c1", registry: registry([("t", "q")]) { ctx in
            recorder.record(ctx.job.id)
            if ctx.job.id == "flaky" && ctx.job.attempt < 2 { throw JobError.transient("upstream 503") }
            if ctx.job.id == "broken" { throw JobError.transient("still down (attempt \(ctx.job.attempt))") }
            return nil
        })
        try await w.waitReady()
        try await h.enqueue("q", id: "flaky")
        try await h.enqueue("q", id: "broken")
        try await eventually { try await h.deadLetters("q").count == 1 && recorder.count("flaky") == 2 }
        #expect(recorder.count("broken") == 3)
        let dead = try #require(try await h.deadLetters("q").first)
        // Regression (acde12b): the retried entry's own first/last_failure_at must not ride
        // along beside the dead letter's, one value per field name.
        let names = try #require(try await h.entries(h.keys("q").dead).first?.fields).map(\.0)
        #expect(names.count == Set(names).count, "repeated fields in \(names)")
        #expect(names.filter { $0 == "first_failure_at" }.count == 1)
        #expect(dead["id"] == "broken")
        #expect(dead["attempts"] == "3")
        #expect(dead["dead_error_class"] == "transient")
        #expect(dead["dead_reason"] == "gave up after 3 attempts: still down (attempt 3)")
        #expect(dead["type"] == "t")
        #expect(dead["consumer"] == "c1")
        let first = Int64(dead["first_failure_at"] ?? "") ?? 0
        let last = Int64(dead["last_failure_at"] ?? "") ?? 0
        #expect(first > 0 && last >= first + 50, "the retries waited for their backoff")
        let events = try await h.events("q")
        #expect(events.filter { $0["event"] == "retrying" && $0["id"] == "broken" }.count == 2)
        #expect(events.contains { $0["event"] == "succeeded" && $0["id"] == "flaky" && $0["attempt"] == "2" })
        #expect(try await h.client.call(["ZCARD", h.keys("q").delayed]).int == 0)
        await w.stop()
    }

    @Test func permanentFailuresAndMalformedEntriesAreDeadLetteredAtOnce() async throws {
        let h = try await Harness(namespace: TestRedis.namespace(), queues: [QueueOptions(name: "q", concurrency: 2)])
        let recorder = Recorder()
        let w = h.worker(consumer: "c1", registry: registry([("t", "q")]) { ctx in
            recorder.record(ctx.job.id)
            if ctx.job.id == "perm" { throw JobError.permanent("source image is corrupt") }
            return nil
        })
        try await w.waitReady()
        let stream = h.keys("q").stream
        try await h.enqueue("q", id: "perm")
        try await h.client.call(["XADD", stream, "*", "id", "a", "type", "t", "payload", "{}"])                 // no version
        try await h.client.call(["XADD", stream, "*", "v", "9", "id", "b", "type", "t", "payload", "{}"])       // future version
        try await h.client.call(["XADD", stream, "*", "v", "1", "id", "c", "type", "t", "payload", "{nope"])    // bad JSON
        try await h.client.call(["XADD", stream, "*", "v", "1", "type", "t", "payload", "{}"])                  // no id
        try await h.client.call(["XADD", stream, "*", "v", "1", "id", "e", "type", "resize", "payload", "{}"])  // unknown type
        try await h.client.call(["XADD", stream, "*", "v", "1", "id", "f", "type", "t", "payload", "[1,2]"])    // not an object
        try await h.enqueue("q", id: "good")
        try await eventually { try await h.deadLetters("q").count == 7 && recorder.count("good") == 1 }
        let reasons = try await h.deadLetters("q").map { $0["dead_reason"] ?? "" }
        #expect(reasons.contains("source image is corrupt"))
        #expect(reasons.contains { $0.contains("missing field 'v'") })
        #expect(reasons.contains { $0.contains("unsupported schema version v=9") })
        #expect(reasons.contains { $0.contains("'payload' is not valid JSON") })
        #expect(reasons.contains { $0.contains("missing field 'id'") })
        #expect(reasons.contains { $0.contains("unknown job type 'resize'") })
        #expect(reasons.contains { $0.contains("must be a JSON object") })
        #expect(recorder.count("perm") == 1, "permanent errors are not retried")
        // The dead letters were acknowledged with their scripts; `good` once its success is recorded.
        try await eventually("every entry acknowledged") { try await h.pendingCount("q") == 0 }
        await w.stop()
    }

    @Test func entriesOfADeadConsumerAreTakenOver() async throws {
        let queue = QueueOptions(name: "q", concurrency: 4, claimMinIdle: .milliseconds(300))
        let h = try await Harness(namespace: TestRedis.namespace(), queues: [queue])
        let keys = h.keys("q")
        try await QueueAdmin.ensureGroup(keys: keys, client: h.client)
        for i in 0..<5 { try await h.enqueue("q", id: "orphan-\(i)") }
        // A consumer reads them and dies without acknowledging.
        _ = try await h.client.call(["XREADGROUP", "GROUP", QueueKeys.group, "ghost", "COUNT", "10", "STREAMS", keys.stream, ">"])
        #expect(try await h.pendingCount("q") == 5)
        let recorder = Recorder()
        let w = h.worker(consumer: "rescuer", registry: registry([("t", "q")]) { ctx in
            recorder.record(ctx.job.id)
            return nil
        })
        try await eventually { recorder.total == 5 }
        try await eventually { try await h.pendingCount("q") == 0 }
        #expect((0..<5).allSatisfy { recorder.count("orphan-\($0)") == 1 })
        await w.stop()
    }

    @Test func poisonEntriesAreDeadLetteredWithoutRunning() async throws {
        let queue = QueueOptions(name: "q", concurrency: 2, claimMinIdle: .milliseconds(200), maxDeliveries: 3)
        let h = try await Harness(namespace: TestRedis.namespace(), queues: [queue])
        let keys = h.keys("q")
        try await QueueAdmin.ensureGroup(keys: keys, client: h.client)
        let entry = try await h.enqueue("q", id: "killer")
        // Three consumers in a row took it and died (delivery count 3).
        _ = try await h.client.call(["XREADGROUP", "GROUP", QueueKeys.group, "ghost1", "COUNT", "1", "STREAMS", keys.stream, ">"])
        _ = try await h.client.call(["XCLAIM", keys.stream, QueueKeys.group, "ghost2", "0", entry])
        _ = try await h.client.call(["XCLAIM", keys.stream, QueueKeys.group, "ghost3", "0", entry])
        let recorder = Recorder()
        let w = h.worker(consumer: "c", registry: registry([("t", "q")]) { ctx in
            recorder.record(ctx.job.id)
            return nil
        })
        try await eventually { try await h.deadLetters("q").count == 1 }
        let dead = try #require(try await h.deadLetters("q").first)
        #expect(dead["id"] == "killer")
        #expect(dead["dead_reason"]?.hasPrefix("poison: delivered 4 times") == true)
        #expect(dead["original_id"] == entry)
        #expect(recorder.total == 0)
        #expect(try await h.pendingCount("q") == 0)
        #expect(try await h.events("q").contains { $0["event"] == "dead_lettered" && $0["id"] == "killer" })
        await w.stop()
    }

    @Test func ownPendingEntriesAreReplayedOnRestart() async throws {
        let h = try await Harness(namespace: TestRedis.namespace(), queues: [QueueOptions(name: "q", concurrency: 2, claimMinIdle: .seconds(60))])
        let keys = h.keys("q")
        try await QueueAdmin.ensureGroup(keys: keys, client: h.client)
        for i in 0..<3 { try await h.enqueue("q", id: "mine-\(i)") }
        // This consumer name read them in an earlier life and crashed.
        _ = try await h.client.call(["XREADGROUP", "GROUP", QueueKeys.group, "same-name", "COUNT", "10", "STREAMS", keys.stream, ">"])
        let recorder = Recorder()
        let w = h.worker(consumer: "same-name", registry: registry([("t", "q")]) { ctx in
            recorder.record(ctx.job.id)
            return nil
        })
        // claimMinIdle is 60 s, so only the replay of its own pending entries can explain this.
        try await eventually(timeout: .seconds(5)) { recorder.total == 3 }
        await w.stop()
    }

    @Test func runningJobsAreNeverStolenFromALiveConsumer() async throws {
        // Generous for a loaded CI machine: the refresh runs every 333 ms.
        let queue = QueueOptions(name: "q", concurrency: 2, claimMinIdle: .seconds(1))
        let h = try await Harness(namespace: TestRedis.namespace(), queues: [queue])
        let recorder = Recorder()
        let reg = registry([("t", "q")]) { ctx in
            recorder.record(ctx.job.id)
            try await Task.sleep(for: .milliseconds(4000))  // four times claimMinIdle
            return nil
        }
        let a = h.worker(consumer: "a", registry: reg)
        try await a.waitReady()
        try await h.enqueue("q", id: "long")
        try await eventually { recorder.total == 1 }
        let b = h.worker(consumer: "b", registry: reg)
        try await eventually(timeout: .seconds(15)) { try await QueueAdmin.completedRecord(keys: h.keys("q"), client: h.client, jobID: "long") != nil }
        #expect(recorder.count("long") == 1)
        await a.stop()
        await b.stop()
    }

    @Test func aFloodOnOneQueueDoesNotStarveAnother() async throws {
        let h = try await Harness(namespace: TestRedis.namespace(), queues: [
            QueueOptions(name: "bulk", concurrency: 1), QueueOptions(name: "preview", concurrency: 1),
        ])
        let recorder = Recorder()
        let w = h.worker(consumer: "c", registry: registry([("slow", "bulk"), ("fast", "preview")]) { ctx in
            if ctx.job.type == "slow" { try await Task.sleep(for: .milliseconds(500)) }
            recorder.record(ctx.job.id)
            return nil
        })
        try await w.waitReady()
        for i in 0..<50 { try await h.enqueue("bulk", id: "bulk-\(i)", type: "slow") }
        try await Task.sleep(for: .milliseconds(100))
        try await h.enqueue("preview", id: "preview-1", type: "fast")
        try await eventually(timeout: .seconds(4)) { recorder.count("preview-1") == 1 }
        #expect(recorder.total < 10, "the preview ran while the bulk backlog (50 × 500 ms, one lane) was still there")
        await w.stop()
    }

    @Test func gracefulStopDrainsInFlightJobsAndLeavesTheRestPending() async throws {
        let h = try await Harness(namespace: TestRedis.namespace(), queues: [QueueOptions(name: "q", concurrency: 2, claimMinIdle: .seconds(60))])
        let recorder = Recorder()
        let w = h.worker(consumer: "c", registry: registry([("t", "q")]) { ctx in
            recorder.record("start-" + ctx.job.id)
            try await Task.sleep(for: .milliseconds(ctx.job.id == "short" ? 300 : 5000))
            recorder.record("end-" + ctx.job.id)
            return nil
        }, drainTimeout: .seconds(1))
        try await w.waitReady()
        try await h.enqueue("q", id: "short")
        try await h.enqueue("q", id: "long")
        try await eventually { recorder.count("start-short") == 1 && recorder.count("start-long") == 1 }
        let error = await w.stop()
        #expect(error == nil)
        #expect(recorder.count("end-short") == 1, "in-flight job within the drain timeout finished")
        #expect(recorder.count("end-long") == 0)
        #expect(try await h.pendingCount("q") == 1, "the unfinished job stays pending for another consumer")
        #expect(try await h.deadLetters("q").isEmpty, "never marked failed")
        #expect(try await QueueAdmin.completedRecord(keys: h.keys("q"), client: h.client, jobID: "long") == nil)
    }

    @Test func aConsumerNameCannotBeSharedByTwoLiveWorkers() async throws {
        let h = try await Harness(namespace: TestRedis.namespace(), queues: [QueueOptions(name: "q")])
        let reg = registry([("t", "q")]) { _ in nil }
        let first = h.worker(consumer: "dup", registry: reg)
        try await first.waitReady()
        let second = h.worker(consumer: "dup", registry: reg)
        let error = await second.exit().flatMap { $0 as? ConsumerLock.InUse }
        #expect(error != nil)
        #expect(error?.description.contains("consumer name 'dup' is in use") == true)
        #expect(first.worker.phase == .ready)
        await first.stop()
        // Released on a clean stop: the name is free again at once.
        let third = h.worker(consumer: "dup", registry: reg)
        try await third.waitReady(timeout: .seconds(2))
        await third.stop()
    }

    @Test func liveConsumersAreCountedByHeartbeatNotByIdleTime() async throws {
        let h = try await Harness(namespace: TestRedis.namespace(), queues: [QueueOptions(name: "quiet"), QueueOptions(name: "busy")])
        let reg = registry([("t", "busy")]) { _ in nil }
        let a = h.worker(consumer: "a", registry: reg)
        let b = h.worker(consumer: "b", registry: reg)
        try await a.waitReady()
        try await b.waitReady()
        try await eventually("heartbeats") {
            try await QueueAdmin.status(keys: h.keys("quiet"), client: h.client).liveConsumers == 2
        }
        await a.stop()
        #expect(try await QueueAdmin.status(keys: h.keys("quiet"), client: h.client).liveConsumers == 1, "a clean stop leaves at once")
        await b.stop()
        #expect(try await QueueAdmin.status(keys: h.keys("busy"), client: h.client).liveConsumers == 0)
    }

    @Test func theDelayedMoverIsAtomicUnderConcurrency() async throws {
        let h = try await Harness(namespace: TestRedis.namespace(), queues: [QueueOptions(name: "q")])
        let keys = h.keys("q")
        for i in 0..<200 {
            let member = QueueLane.jsonArray(["v", "1", "id", "d-\(i)", "type", "t", "payload", "{}"])
            try await h.client.call(["ZADD", keys.delayed, "1", member])
        }
        let clients = (0..<4).map { RedisClient(endpoint: TestRedis.endpoint, name: "mover-\($0)") }
        await withTaskGroup(of: Void.self) { group in
            for client in clients {
                group.addTask {
                    for _ in 0..<10 {
                        _ = try? await QueueScripts.moveDue.run(on: client, keys: [keys.delayed, keys.stream], args: [String(QueueLane.nowMs()), "25"])
                    }
                }
            }
        }
        let ids = try await h.entries(keys.stream).compactMap { h.fields($0)["id"] }
        #expect(ids.count == 200)
        #expect(Set(ids).count == 200)
        #expect(try await h.client.call(["ZCARD", keys.delayed]).int == 0)
    }

    @Test func trimmingNeverRemovesPendingOrUndeliveredEntries() async throws {
        let h = try await Harness(namespace: TestRedis.namespace(), queues: [QueueOptions(name: "q")])
        let keys = h.keys("q")
        try await QueueAdmin.ensureGroup(keys: keys, client: h.client)
        for i in 0..<300 { try await h.enqueue("q", id: "e-\(i)") }
        // 200 delivered: the first 10 stay pending, the rest acknowledged; 100 never delivered.
        let delivered = try await h.client.send(RESPCommand(["XREADGROUP", "GROUP", QueueKeys.group, "x", "COUNT", "200", "STREAMS", keys.stream, ">"]),
                                                decode: StreamEntry.decodeReadReply).map(\.id)
        try await h.client.call(["XACK", keys.stream, QueueKeys.group] + Array(delivered.dropFirst(10)))
        _ = try await QueueScripts.trim.run(on: h.client, keys: [keys.stream], args: [QueueKeys.group, "maxlen", "5", "10000"])
        let remaining = Set(try await h.entries(keys.stream).map(\.id))
        #expect(delivered.prefix(10).allSatisfy { remaining.contains($0) }, "pending entries survive")
        #expect(remaining.count >= 110, "the undelivered 100 survive")
        #expect(try await h.pendingCount("q") == 10)
        // Once everything is acknowledged the stream can shrink to about the limit.
        try await h.client.call(["XACK", keys.stream, QueueKeys.group] + Array(delivered.prefix(10)))
        _ = try await h.client.call(["XREADGROUP", "GROUP", QueueKeys.group, "x", "COUNT", "1000", "STREAMS", keys.stream, ">"])
        let rest = try await h.entries(keys.stream).map(\.id)
        try await h.client.call(["XACK", keys.stream, QueueKeys.group] + rest)
        _ = try await QueueScripts.trim.run(on: h.client, keys: [keys.stream], args: [QueueKeys.group, "maxlen", "5", "10000"])
        #expect(try await h.client.call(["XLEN", keys.stream]).int ?? 0 < 150)
    }

    @Test func pendingEntriesDeletedByTrimmingAreDeadLettered() async throws {
        let queue = QueueOptions(name: "q", concurrency: 2, claimMinIdle: .milliseconds(200))
        let h = try await Harness(namespace: TestRedis.namespace(), queues: [queue])
        let keys = h.keys("q")
        try await QueueAdmin.ensureGroup(keys: keys, client: h.client)
        let entry = try await h.enqueue("q", id: "victim")
        _ = try await h.client.call(["XREADGROUP", "GROUP", QueueKeys.group, "ghost", "COUNT", "1", "STREAMS", keys.stream, ">"])
        try await h.client.call(["XDEL", keys.stream, entry])   // what a careless MAXLEN does
        let w = h.worker(consumer: "c", registry: registry([("t", "q")]) { _ in nil })
        try await eventually { try await h.deadLetters("q").count == 1 }
        let dead = try #require(try await h.deadLetters("q").first)
        #expect(dead["original_id"] == entry)
        #expect(dead["dead_reason"]?.hasPrefix("trimmed") == true)
        await w.stop()
    }

    @Test func handlerTimeoutsAreTransientFailures() async throws {
        let h = try await Harness(namespace: TestRedis.namespace(), queues: [QueueOptions(name: "q")])
        var reg = JobRegistry()
        reg.register(JobTypeOptions(type: "t", queue: "q", retry: RetryPolicy(maxAttempts: 1), timeout: .milliseconds(100)),
                     handler: ClosureJobHandler { _ in try await Task.sleep(for: .seconds(10)); return nil })
        let w = h.worker(consumer: "c", registry: reg)
        try await w.waitReady()
        try await h.enqueue("q", id: "slowpoke")
        try await eventually { try await h.deadLetters("q").count == 1 }
        #expect(try await h.deadLetters("q").first?["dead_reason"] == "gave up after 1 attempts: timed out after 100ms")
        await w.stop()
    }
}
