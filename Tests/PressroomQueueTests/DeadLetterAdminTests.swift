import Foundation
@testable import PressroomQueue
import Testing

@Suite("Dead-letter tooling against a real redis-server")
struct DeadLetterAdminTests {
    /// Dead letters made the real way: a worker whose handler fails permanently.
    func seeded(_ count: Int, types: [String] = ["render", "derive"]) async throws -> (Harness, DeadLetterAdmin, Recorder, RunningWorker) {
        let h = try await Harness(namespace: TestRedis.namespace(), queues: [QueueOptions(name: "a", concurrency: 4), QueueOptions(name: "b", concurrency: 4)])
        let recorder = Recorder()
        let failing = Recorder()
        var reg = JobRegistry()
        for type in types {
            reg.register(JobTypeOptions(type: type, queue: type == "render" ? "b" : "a", retry: RetryPolicy(maxAttempts: 1)),
                         handler: ClosureJobHandler { ctx in
                             recorder.record(ctx.job.id)
                             // Fails until replayed: a fixed upstream.
                             if ctx.job.fields["replayed_from"] == nil {
                                 failing.record(ctx.job.id)
                                 throw JobError.permanent(ctx.job.id.hasPrefix("x") ? "ICC profile is malformed" : "vendor rejected the order")
                             }
                             return nil
                         })
        }
        let w = h.worker(consumer: "c", registry: reg)
        try await w.waitReady()
        for i in 0..<count {
            let type = types[i % types.count]
            try await h.enqueue(type == "render" ? "b" : "a", id: (i % 3 == 0 ? "x" : "j") + "\(i)", type: type)
        }
        let admin = DeadLetterAdmin(namespace: h.namespace, queues: ["a", "b"], client: h.client)
        try await eventually { try await admin.stats().total == count }
        return (h, admin, recorder, w)
    }

    @Test func listFiltersAndStats() async throws {
        let (_, admin, _, w) = try await seeded(12)
        #expect(try await admin.list().count == 12)
        #expect(try await admin.list(.init(queue: "b")).allSatisfy { $0.queue == "b" && $0.type == "render" })
        #expect(try await admin.list(.init(type: "derive")).count == 6)
        #expect(try await admin.list(.init(reason: "icc PROFILE")).count == 4)
        #expect(try await admin.list(.init(limit: 5)).count == 5)
        #expect(try await admin.list(.init(since: Date().addingTimeInterval(-3600))).count == 12)
        #expect(try await admin.list(.init(before: Date().addingTimeInterval(-3600))).isEmpty)
        let stats = try await admin.stats()
        #expect(stats.byQueue == ["a": 6, "b": 6])
        #expect(stats.byErrorClass == ["permanent": 12])
        let letter = try #require(try await admin.list(.init(reason: "vendor")).first)
        let shown = try #require(try await admin.show(id: letter.reference))
        #expect(shown.reason == "vendor rejected the order")
        #expect(shown.consumer == "c")
        #expect(shown.payload == "{}")
        await w.stop()
    }

    @Test func replayRunsTheJobAgainOnceEvenIfReplayedTwice() async throws {
        let (h, admin, recorder, w) = try await seeded(4)
        let letter = try #require(try await admin.list(.init(queue: "a")).first)
        let jobID = try #require(letter.jobID)
        // A completed-id record for the same job must not swallow the replay.
        try await h.client.call(["SET", h.keys("a").job(jobID), #"{"status":"succeeded"}"#])
        #expect(try await admin.replay(letter) == .replayed)
        #expect(try await admin.replay(letter) == .gone)
        try await eventually { recorder.count(jobID) == 2 }
        try await Task.sleep(for: .milliseconds(300))
        #expect(recorder.count(jobID) == 2, "ran once more, not twice more")
        #expect(try await admin.show(id: letter.reference) == nil)
        let replayed = try await h.entries(h.keys("a").stream).map(h.fields).filter { $0["replayed_from"] == letter.id }
        #expect(replayed.count == 1)
        #expect(replayed.first?["attempt"] == nil, "attempts reset")
        await w.stop()
    }

    @Test func interruptedBulkReplayLeavesEachEntryInExactlyOnePlace() async throws {
        let (h, admin, _, w) = try await seeded(30, types: ["derive"])
        await w.stop()   // nothing consumes: replayed entries stay visible on the stream
        var small = admin
        small.pageSize = 7
        var done = 0
        try await small.forEachPage(.init()) { page in
            for letter in page {
                if done == 11 { return false }   // Ctrl-C after eleven
                _ = try await small.replay(letter)
                done += 1
            }
            return true
        }
        let dead = try await admin.list().compactMap(\.jobID)
        let requeued = try await h.entries(h.keys("a").stream).map(h.fields).filter { $0["replayed_from"] != nil }.compactMap { $0["id"] }
        #expect(requeued.count == 11)
        #expect(dead.count == 19)
        #expect(Set(dead).isDisjoint(with: requeued))
    }

    @Test func purgeRemovesOnlyWhatMatches() async throws {
        let (_, admin, _, w) = try await seeded(10)
        #expect(try await admin.purge(try await admin.list(.init(before: Date().addingTimeInterval(-60)))) == 0)
        #expect(try await admin.purge(try await admin.list(.init(queue: "b"))) == 5)
        #expect(try await admin.stats().byQueue == ["a": 5])
        await w.stop()
    }
}
