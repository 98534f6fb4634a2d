import Foundation
@testable import PressroomQueue
import Testing

@Suite("Partitioned queues against a real redis-server")
struct PartitionTests {
    /// The documented function: zlib's CRC-32 of the id (its hash tag, if it has one) mod N.
    @Test func thePartitionIsZlibsCRC32OfTheIdsHashTagModN() {
        // zlib.crc32(b"job-1") == 1279408703, zlib.crc32(b"A1001") == 1104530041, zlib.crc32(b"hello") == 907060870
        #expect(CRC32.checksum("job-1".utf8) == 1_279_408_703)
        #expect(CRC32.checksum("A1001".utf8) == 1_104_530_041)
        #expect(CRC32.checksum("hello".utf8) == 907_060_870)
        #expect(QueuePartitions.partition(ofJob: "job-1", count: 3) == 1_279_408_703 % 3)
        #expect(QueuePartitions.partition(ofJob: "hello", count: 7) == 907_060_870 % 7)
        // An order's jobs meet its record: only the tag between the first braces counts.
        for id in ["{A1001}:fulfill", "{A1001}:line:3", "{A1001}:order"] {
            #expect(QueuePartitions.partition(ofJob: id, count: 5) == 1_104_530_041 % 5)
        }
        // An empty tag is no tag (as in Redis Cluster): the whole id is hashed.
        #expect(QueuePartitions.partition(ofJob: "a{}b", count: 1000) == Int(CRC32.checksum("a{}b".utf8) % 1000))
        #expect(QueuePartitions.partition(ofJob: "anything", count: 1) == 0)
    }

    /// Partition 0 keeps today's keys, so going from 1 to N partitions loses nothing.
    @Test func partitionZeroKeepsTheUnpartitionedKeys() {
        let layout = QueuePartitions(namespace: "pressroom", queue: "render", count: 3)
        #expect(layout.keys(0) == QueueKeys(namespace: "pressroom", queue: "render"))
        #expect(layout.keys(0).stream == "{pressroom:render}:jobs")
        #expect(layout.keys(2).stream == "{pressroom:render:2}:jobs")
        #expect(layout.keys(2).job("x") == "{pressroom:render:2}:job:x")
        #expect(layout.all.map(\.partition) == [0, 1, 2])
        #expect(QueuePartitions(namespace: "n", queue: "q", count: 2, drainFrom: 4).all.count == 4)
    }

    /// The shared slots: reservations are neither free nor running, and lanes
    /// waiting for slots get them in the order they asked.
    @Test func slotsAreReservedFirstComeFirstServed() async throws {
        let slots = LaneSlots(capacity: 3)
        #expect(slots.reserveNow(upTo: 2) == 2 && slots.free == 1 && slots.inUse == 0)
        slots.commit(1)
        slots.unreserve(1)
        #expect(slots.free == 2 && slots.inUse == 1)
        #expect(await slots.reserve(upTo: 5, timeout: .seconds(60)) == 2)
        slots.commit(2)
        #expect(slots.free == 0 && slots.inUse == 3)
        #expect(await slots.reserve(upTo: 1, timeout: .milliseconds(10)) == 0, "none free: the wait times out")
        #expect(slots.waiting == 0, "and leaves the line")
        let order = Recorder()
        let first = Task { let n = await slots.reserve(upTo: 2, timeout: .seconds(60)); order.record("first"); return n }
        try await eventually { slots.waiting == 1 }
        let second = Task { let n = await slots.reserve(upTo: 2, timeout: .seconds(60)); order.record("second"); return n }
        try await eventually { slots.waiting == 2 }
        #expect(slots.reserveNow(upTo: 1) == 0, "nobody jumps the line")
        slots.release(1)
        #expect(await first.value == 1, "the first in line gets the freed slot")
        slots.release(2)
        #expect(await second.value == 2)
        #expect(order.sequence == ["first", "second"])
        #expect(slots.free == 0 && slots.inUse == 0)
    }

    /// A harness of queue `q` in `partitions` partitions and a ready worker
    /// recording every run before `body` decides its outcome.
    private func running(concurrency: Int, partitions: Int, _ body: @escaping @Sendable (JobContext) throws -> Void)
        async throws -> (Harness, QueuePartitions, Recorder, RunningWorker) {
        let h = try await Harness(namespace: TestRedis.namespace(), queues: [QueueOptions(name: "q", concurrency: concurrency, partitions: partitions)])
        let recorder = Recorder()
        let w = h.worker(consumer: "c1", registry: registry([("t", "q")]) { ctx in
            recorder.record(ctx.job.id)
            try body(ctx)
            return nil
        })
        try await w.waitReady()
        return (h, layout(h), recorder, w)
    }

    private func layout(_ h: Harness, _ queue: String = "q") -> QueuePartitions {
        h.queues.first { $0.name == queue }!.partitioning(namespace: h.namespace)
    }

    /// An id of each partition, found by the function itself.
    private func ids(on partition: Int, of count: Int, prefix: String, _ n: Int) -> [String] {
        var found: [String] = []
        var i = 0
        while found.count < n {
            let id = "\(prefix)-\(i)"
            if QueuePartitions.partition(ofJob: id, count: count) == partition { found.append(id) }
            i += 1
        }
        return found
    }

    @Test func threePartitionsRunEveryJobExactlyOnceAndDuplicatesMeet() async throws {
        let h = try await Harness(namespace: TestRedis.namespace(), queues: [QueueOptions(name: "q", concurrency: 3, partitions: 3)])
        let partitions = layout(h)
        let recorder = Recorder()
        let handler = registry([("t", "q")]) { ctx in
            recorder.record(ctx.job.id)
            return nil
        }
        let workers = [h.worker(consumer: "c1", registry: handler), h.worker(consumer: "c2", registry: handler)]
        for w in workers { try await w.waitReady() }
        let ids = (0..<150).map { "job-\($0)" }
        for id in ids {
            try await QueueAdmin.enqueue(partitions: partitions, client: h.client, id: id, type: "t", payload: "{}")
        }
        // Duplicates of some ids, while the originals run or after: each meets its original on one partition.
        for id in ids.prefix(30) {
            try await QueueAdmin.enqueue(partitions: partitions, client: h.client, id: id, type: "t", payload: "{}")
        }
        try await eventually("every job ran") { recorder.total >= 150 }
        try await eventually("every entry acknowledged") {
            let status = try await QueueAdmin.status(of: partitions, client: h.client)
            return status.pending == 0 && status.lag == 0
        }
        for id in ids { #expect(recorder.count(id) == 1, "\(id) ran \(recorder.count(id)) times") }
        #expect(recorder.total == 150)
        let status = try await QueueAdmin.status(of: partitions, client: h.client)
        let parts = try #require(status.partitions)
        #expect(parts.map(\.partition) == [0, 1, 2])
        #expect(parts.allSatisfy { $0.length > 20 }, "the ids spread over every partition: \(parts.map(\.length))")
        #expect(status.length == parts.reduce(0) { $0 + $1.length })
        #expect(status.length == 180)
        #expect(Set(status.consumers.map(\.name)) == ["c1", "c2"], "each consumer once, over all partitions")
        // Every success's event and record are on the partition of its id.
        for p in 0..<3 {
            let events = try await h.entries(partitions.keys(p).events).map(h.fields)
            #expect(!events.isEmpty)
            #expect(events.allSatisfy { QueuePartitions.partition(ofJob: $0["id"] ?? "", count: 3) == p })
        }
        for w in workers { await w.stop() }
    }

    /// One slot, a flood on partition 0: the lone jobs of partitions 1 and 2
    /// still get the slot in turn, long before the flood is through.
    @Test func noPartitionStarvesBehindABusyOne() async throws {
        let h = try await Harness(namespace: TestRedis.namespace(), queues: [QueueOptions(name: "q", concurrency: 1, partitions: 3)])
        let partitions = layout(h)
        let flood = ids(on: 0, of: 3, prefix: "flood", 60)
        let lone = ids(on: 1, of: 3, prefix: "lone", 1) + ids(on: 2, of: 3, prefix: "lone", 1)
        try await QueueAdmin.ensureGroup(keys: partitions.keys(0), client: h.client)
        for id in flood + lone {
            try await QueueAdmin.enqueue(partitions: partitions, client: h.client, id: id, type: "t", payload: "{}")
        }
        let recorder = Recorder()
        let w = h.worker(consumer: "c1", registry: registry([("t", "q")]) { ctx in
            recorder.record(ctx.job.id)
            try await Task.sleep(for: .milliseconds(2))
            return nil
        })
        try await eventually { recorder.total == 62 }
        let order = recorder.sequence
        for id in lone {
            let position = try #require(order.firstIndex(of: id))
            #expect(position < 20, "\(id) ran as job \(position + 1) of 62, behind the flood")
        }
        await w.stop()
    }

    @Test func deadLettersOfPartitionTwoAreListedShownReplayedAndPurged() async throws {
        let (h, partitions, recorder, w) = try await running(concurrency: 2, partitions: 3) { ctx in
            if ctx.job.fields[WireFormat.Field.replayedFrom] == nil { throw JobError.permanent("bad input") }
            #expect(ctx.job.partition == 2)
        }
        let doomed = ids(on: 2, of: 3, prefix: "doomed", 2)
        for id in doomed {
            try await QueueAdmin.enqueue(partitions: partitions, client: h.client, id: id, type: "t", payload: "{}")
        }
        let admin = DeadLetterAdmin(queues: [partitions], namespace: h.namespace, client: h.client)
        try await eventually { try await admin.list().count == 2 }
        let letters = try await admin.list()
        #expect(letters.allSatisfy { $0.partition == 2 && $0.queue == "q" })
        #expect(letters.allSatisfy { $0.reference == "q/2/\($0.id)" })
        // Every form of reference finds it: QUEUE/PARTITION/ID, QUEUE/ID and the bare id.
        for reference in ["q/2/\(letters[0].id)", "q/\(letters[0].id)", letters[0].id] {
            #expect(try await admin.show(id: reference)?.jobID == letters[0].jobID, "\(reference)")
        }
        #expect(try await admin.show(id: "q/1/\(letters[0].id)") == nil)
        let status = try await QueueAdmin.status(of: partitions, client: h.client)
        #expect(status.deadLetters == 2 && status.partitions?.map(\.deadLetters) == [0, 0, 2])
        #expect(try await admin.stats().byPartition == ["q/2": 2])

        #expect(try await admin.replay(letters[0]) == .replayed)
        try await eventually("the replayed job ran") { recorder.count(letters[0].jobID ?? "") == 2 }
        try await eventually("its success recorded") {
            try await QueueAdmin.completedRecord(keys: partitions.keys(2), client: h.client, jobID: letters[0].jobID ?? "") != nil
        }
        #expect(try await admin.purge([letters[1]]) == 1)
        #expect(try await admin.list().isEmpty)
        #expect(try await h.client.call(["XLEN", partitions.keys(2).dead]).int == 0)
        await w.stop()
    }

    /// Retries wait in their own partition's delayed set and come back to its stream.
    @Test func retriesStayOnTheirPartition() async throws {
        let (h, partitions, recorder, w) = try await running(concurrency: 2, partitions: 3) { ctx in
            if ctx.job.attempt < 3 { throw JobError.transient("try again") }
        }
        let id = ids(on: 1, of: 3, prefix: "flaky", 1)[0]
        try await QueueAdmin.enqueue(partitions: partitions, client: h.client, id: id, type: "t", payload: "{}")
        try await eventually { recorder.count(id) == 3 }
        try await eventually("recorded") {
            try await QueueAdmin.completedRecord(keys: partitions.keys(1), client: h.client, jobID: id) != nil
        }
        let events = try await h.entries(partitions.keys(1).events).map(h.fields)
        #expect(events.filter { $0["event"] == "retrying" }.count == 2)
        #expect(events.contains { $0["event"] == "succeeded" && $0["attempt"] == "3" })
        for p in [0, 2] { #expect(try await h.client.call(["EXISTS", partitions.keys(p).events]).int == 0) }
        await w.stop()
    }

    /// After a decrease from 3 to 1, `drainPartitions: 3` keeps the old
    /// partitions read until they are empty while every new job goes to 0.
    @Test func drainingPartitionsAreStillRead() async throws {
        let h = try await Harness(namespace: TestRedis.namespace(), queues: [QueueOptions(name: "q", concurrency: 2, partitions: 1, drainPartitions: 3)])
        let old = QueuePartitions(namespace: h.namespace, queue: "q", count: 3)
        let now = layout(h)
        let before = (0..<30).map { "before-\($0)" }
        for id in before { try await QueueAdmin.enqueue(partitions: old, client: h.client, id: id, type: "t", payload: "{}") }
        #expect(now.keys(forJob: "after-1") == now.keys(0))
        let recorder = Recorder()
        let w = h.worker(consumer: "c1", registry: registry([("t", "q")]) { ctx in
            recorder.record(ctx.job.id)
            return nil
        })
        try await w.waitReady()
        for i in 0..<10 { try await QueueAdmin.enqueue(partitions: now, client: h.client, id: "after-\(i)", type: "t", payload: "{}") }
        try await eventually { recorder.total == 40 }
        try await eventually("drained") {
            let status = try await QueueAdmin.status(of: now, client: h.client)
            return status.partitions?.allSatisfy { $0.lag == 0 && $0.pending == 0 } == true
        }
        #expect(before.allSatisfy { recorder.count($0) == 1 })
        await w.stop()
    }
}
