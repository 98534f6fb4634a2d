import Foundation
@testable import PressroomQueue
import Synchronization
import Testing

/// The job state key (`{ns:queue}:job:<id>`): one key says "running on
/// consumer X" while a job runs and holds its outcome once it finished.
@Suite("Job state key against a real redis-server")
struct JobStateTests {
    /// The hand-written string literal is JSONEncoder's (slashes as they are): markers
    /// written by earlier versions still match byte for byte.
    @Test func jsonStringsAreJSONEncodersBytes() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        for text in ["", "1796327869774-1", "host/worker-1", "quote \" backslash \\ newline \n tab \t bell \u{07} unit \u{1F} del \u{7F} ü 🖨 \u{2028}"] {
            #expect(JobState.jsonString(text) == String(decoding: try encoder.encode(text), as: UTF8.self))
        }
    }

    @Test func runningMarkerWhileRunningOutcomeAfter() async throws {
        let h = try await Harness(namespace: TestRedis.namespace(), queues: [QueueOptions(name: "q", concurrency: 2)])
        let gate = Gate()
        let w = h.worker(consumer: "c1", registry: registry([("t", "q")]) { _ in
            await gate.wait()
            return Data(#"{"ok":true}"#.utf8)
        })
        try await w.waitReady()
        let entry = try await h.enqueue("q", id: "slow")
        let key = h.keys("q").job("slow")
        try await eventually("running marker") {
            try await h.client.call(["GET", key]).string == #"{"status":"running","consumer":"c1","entry":"\#(entry)"}"#
        }
        #expect(try await QueueAdmin.completedRecord(keys: h.keys("q"), client: h.client, jobID: "slow") == nil)
        let ttl = try await h.client.call(["PTTL", key]).int ?? -1
        #expect(ttl > 0 && ttl <= 60_000, "the marker expires with claimMinIdle if its consumer dies")
        gate.open()
        try await eventually("outcome") {
            try await QueueAdmin.completedRecord(keys: h.keys("q"), client: h.client, jobID: "slow")?.contains(#""result":{"ok":true}"#) == true
        }
        let recordTTL = try await h.client.call(["TTL", key]).int ?? -1
        #expect(recordTTL > 86_400, "the record lives for completedTTL (7 days by default)")
        await w.stop()
    }

    @Test func concurrentDuplicatesRunOnceAcrossConsumers() async throws {
        let h = try await Harness(namespace: TestRedis.namespace(), queues: [QueueOptions(name: "q", concurrency: 8)])
        let recorder = Recorder()
        let gate = Gate()
        let handler: @Sendable (JobContext) async throws -> Data? = { ctx in
            recorder.record(ctx.job.id + "@" + ctx.consumer)
            await gate.wait()
            return nil
        }
        let w1 = h.worker(consumer: "c1", registry: registry([("t", "q")], handler: handler))
        let w2 = h.worker(consumer: "c2", registry: registry([("t", "q")], handler: handler))
        try await w1.waitReady()
        try await w2.waitReady()
        // The same id enqueued six times while the first copy runs.
        for _ in 0..<6 { try await h.enqueue("q", id: "twice") }
        try await eventually("all copies delivered") {
            let status = try await QueueAdmin.status(keys: h.keys("q"), client: h.client)
            return status.lag == 0 && status.pending <= 1
        }
        gate.open()
        try await eventually("acknowledged") {
            try await QueueAdmin.status(keys: h.keys("q"), client: h.client).pending == 0
        }
        #expect(recorder.total == 1, "one run, wherever it landed")
        await w1.stop()
        await w2.stop()
    }

    /// A consumer died mid-job: its marker for the entry may outlive the
    /// entry's idle time by a moment. The consumer taking the entry over must
    /// run it, not mistake it for a duplicate and acknowledge it unrun.
    @Test func aTakenOverEntryRunsDespiteTheDeadConsumersMarker() async throws {
        let h = try await Harness(namespace: TestRedis.namespace(),
                                  queues: [QueueOptions(name: "q", concurrency: 2, claimMinIdle: .milliseconds(300))])
        let keys = h.keys("q")
        try await QueueAdmin.ensureGroup(keys: keys, client: h.client)
        let entry = try await h.enqueue("q", id: "orphan")
        // "dead" took delivery, marked the job running, then vanished; its marker lives on.
        try await h.client.call(["XREADGROUP", "GROUP", QueueKeys.group, "dead", "COUNT", "10", "STREAMS", keys.stream, ">"])
        try await h.client.call(["SET", keys.job("orphan"), JobState.running(consumer: "dead", entry: entry), "PX", "600000"])
        let recorder = Recorder()
        let w = h.worker(consumer: "c1", registry: registry([("t", "q")]) { ctx in
            recorder.record(ctx.job.id)
            return nil
        })
        try await w.waitReady()
        try await eventually(timeout: .seconds(10), "taken over and run") { recorder.count("orphan") == 1 }
        try await eventually { try await QueueAdmin.completedRecord(keys: keys, client: h.client, jobID: "orphan") != nil }
        await w.stop()
    }

    /// A duplicate enqueue of a job another consumer runs is acknowledged unrun.
    @Test func aDuplicateOfAJobRunningElsewhereIsAcknowledgedUnrun() async throws {
        let h = try await Harness(namespace: TestRedis.namespace(), queues: [QueueOptions(name: "q", concurrency: 2)])
        let keys = h.keys("q")
        try await QueueAdmin.ensureGroup(keys: keys, client: h.client)
        try await h.client.call(["SET", keys.job("elsewhere"), JobState.running(consumer: "other", entry: "1-1"), "PX", "600000"])
        let recorder = Recorder()
        let w = h.worker(consumer: "c1", registry: registry([("t", "q")]) { ctx in
            recorder.record(ctx.job.id)
            return nil
        })
        try await w.waitReady()
        let entry = try await h.enqueue("q", id: "elsewhere")
        // Pending is 0 before any delivery too: wait until this consumer has read the entry
        // (the group's last delivered id is it, nothing lags) and acknowledged it.
        try await eventually("read and acknowledged") {
            let status = try await QueueAdmin.status(keys: keys, client: h.client)
            return try await Self.lastDeliveredID(keys, h.client) == entry && status.lag == 0 && status.pending == 0
        }
        #expect(recorder.total == 0)
        #expect(try await h.client.call(["GET", keys.job("elsewhere")]).string?.contains(#""consumer":"other""#) == true)
        await w.stop()
    }

    /// The group's `last-delivered-id` (XINFO GROUPS).
    static func lastDeliveredID(_ keys: QueueKeys, _ client: RedisClient) async throws -> String? {
        let groups = try await client.call(["XINFO", "GROUPS", keys.stream]).array ?? []
        for group in groups {
            let fields = group.array ?? []
            let pairs = stride(from: 0, to: fields.count - 1, by: 2).map { (fields[$0].string ?? "", fields[$0 + 1]) }
            if pairs.first(where: { $0.0 == "name" })?.1.string == QueueKeys.group {
                return pairs.first { $0.0 == "last-delivered-id" }?.1.string
            }
        }
        return nil
    }

    @Test func aFailedAttemptReleasesTheMarkerSoTheRetryRuns() async throws {
        let h = try await Harness(namespace: TestRedis.namespace(), queues: [QueueOptions(name: "q", concurrency: 2)])
        let recorder = Recorder()
        let w = h.worker(consumer: "c1", registry: registry([("t", "q")]) { ctx in
            recorder.record(ctx.job.id)
            if ctx.job.attempt == 1 { throw JobError.transient("try again") }
            return nil
        })
        try await w.waitReady()
        try await h.enqueue("q", id: "again")
        try await eventually { try await QueueAdmin.completedRecord(keys: h.keys("q"), client: h.client, jobID: "again") != nil }
        #expect(recorder.count("again") == 2)
        await w.stop()
    }
}

/// Holds handlers until opened.
final class Gate: Sendable {
    private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func wait() async {
        await withCheckedContinuation { continuation in
            let proceed = state.withLock { state -> Bool in
                if state.open { return true }
                state.waiters.append(continuation)
                return false
            }
            if proceed { continuation.resume() }
        }
    }

    func open() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}

extension JobStateTests {
    /// The retry script run twice (its reply lost with the connection, then
    /// retried) schedules one retry and reports success both times.
    @Test func aRetryScriptRunTwiceSchedulesOnce() async throws {
        let h = try await Harness(namespace: TestRedis.namespace(), queues: [QueueOptions(name: "q")])
        let keys = h.keys("q")
        try await QueueAdmin.ensureGroup(keys: keys, client: h.client)
        let entry = try await h.enqueue("q", id: "r")
        try await h.client.call(["XREADGROUP", "GROUP", QueueKeys.group, "c", "COUNT", "1", "STREAMS", keys.stream, ">"])
        let marker = JobState.running(consumer: "c", entry: entry)
        try await h.client.call(["SET", keys.job("r"), marker, "PX", "60000"])
        let args = [QueueKeys.group, entry, "9999999999999", #"["v","1","id","r","type","t","payload","{}","attempt","2"]"#, "1000", marker,
                    "event", "retrying", "id", "r"]
        let scriptKeys = [keys.stream, keys.delayed, keys.job("r"), keys.events]
        #expect(try await QueueScripts.retry.run(on: h.client, keys: scriptKeys, args: args).int == 1)
        #expect(try await QueueScripts.retry.run(on: h.client, keys: scriptKeys, args: args).int == 1)
        #expect(try await h.client.call(["ZCARD", keys.delayed]).int == 1)
        #expect(try await h.client.call(["XLEN", keys.events]).int == 1)
        #expect(try await h.client.call(["EXISTS", keys.job("r")]).int == 0, "the running marker is released")
    }
}
