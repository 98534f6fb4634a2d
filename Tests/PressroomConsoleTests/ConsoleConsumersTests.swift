import Foundation
@testable import PressroomConsole
import PressroomQueue
import Synchronization
import Testing

/// The consumers page over real HTTP against a real redis-server and a real
/// worker: its version and each in-flight job's running time come from the
/// worker's heartbeat hash; without one the page falls back to the entry's age.
@Suite(.timeLimit(.minutes(5)))
struct ConsoleConsumersTests {
    /// Holds the slow job until the test lets it go.
    final class Gate: Sendable {
        private let open = Mutex(false)
        var isOpen: Bool { open.withLock { $0 } }
        func release() { open.withLock { $0 = true } }
    }

    @Test func aWorkerRunningASlowJobShowsItsVersionAndAGrowingRunningFor() async throws {
        let f = try await ConsoleFixture()
        defer { Task { await f.stop() } }
        let gate = Gate()
        var registry = JobRegistry()
        registry.register(JobTypeOptions(type: "slow", queue: "alpha"), handler: ClosureJobHandler { _ in
            let deadline = ContinuousClock.now + .seconds(240)
            while !gate.isOpen && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
            return Data("{}".utf8)
        })
        let consumer = "worker-\(UUID().uuidString.prefix(6))"
        var configuration = QueueWorker.Configuration(endpoint: ConsoleFixture.endpoint, namespace: f.namespace, consumer: consumer,
                                                      queues: [QueueOptions(name: "alpha", concurrency: 2, block: .milliseconds(200))])
        configuration.version = "9.8.7-test"
        let worker = QueueWorker(configuration: configuration, registry: registry, logger: ConsoleFixture.logger)
        let task = Task { try? await worker.run() }
        defer { gate.release(); worker.stop(); Task { await task.value } }
        try await QueueAdmin.enqueue(keys: f.keys("alpha"), client: f.client, id: "slow-1", type: "slow", payload: "{}")

        // A consumer of an older release: a heartbeat and a pending entry, no hash.
        let old = try await QueueAdmin.enqueue(keys: f.keys("beta"), client: f.client, id: "old-1", type: "legacy", payload: "{}")
        _ = try await f.client.call(["XREADGROUP", "GROUP", QueueKeys.group, "old-worker", "COUNT", "1", "STREAMS", f.keys("beta").stream, ">"])
        _ = try await f.client.call(["ZADD", f.keys("beta").consumers, String(Int64(Date().timeIntervalSince1970 * 1000)), "old-worker"])

        var first: Double?
        try await eventually("the heartbeat publishes the slow job's start") {
            let page = try await f.get("/console/consumers")
            guard page.status == 200, page.body.contains("9.8.7-test"), let seconds = Self.runningFor("slow-1", in: page.body) else { return false }
            first = seconds
            return true
        }
        try await eventually("running for grows") {
            let page = try await f.get("/console/consumers")
            return (Self.runningFor("slow-1", in: page.body) ?? 0) > first! + 1
        }
        let info = f.keys("alpha").consumerInfo(consumer)
        let ttl = try await f.client.call(["TTL", info]).int ?? -2
        #expect(ttl > 0 && ttl <= 15, "the consumer hash expires with its heartbeats (TTL \(ttl))")
        let inFlight = try #require(try await f.client.call(["HGET", info, "in_flight"]).string)
        #expect(inFlight.contains(#""id":"slow-1""#) && inFlight.contains(#""type":"slow""#) && inFlight.contains("started_at"))

        // The old consumer falls back: no version, the entry's age.
        let page = try await f.get("/console/consumers").body
        let oldRow = try #require(page.components(separatedBy: ">old-worker<").dropFirst().first?.components(separatedBy: "<strong>").first)
        #expect(oldRow.contains("unknown"))
        #expect(oldRow.contains("queued "), "entry \(old) shows its age, not a running time")

        // Finished, the job leaves the worker's in-flight record at the next heartbeat.
        gate.release()
        try await eventually("the finished job leaves the hash") {
            try await f.client.call(["HGET", info, "in_flight"]).string == "[]"
        }
    }

    /// The "running for" cell of `jobID`'s row, in seconds; nil when absent or a fallback.
    static func runningFor(_ jobID: String, in html: String) -> Double? {
        guard let row = html.components(separatedBy: ">\(jobID)</a>").dropFirst().first,
              let cell = row.components(separatedBy: "<td class=\"num\">").dropFirst().first?.components(separatedBy: "</td>").first,
              !cell.hasPrefix("queued") else { return nil }
        if cell.hasSuffix("ms") { return Double(cell.dropLast(2)).map { $0 / 1000 } }
        var seconds = 0.0
        for part in cell.split(separator: " ") {
            guard let unit = part.last, let value = Double(part.dropLast()) else { return nil }
            switch unit {
            case "s": seconds += value
            case "m": seconds += value * 60
            case "h": seconds += value * 3600
            case "d": seconds += value * 86400
            default: return nil
            }
        }
        return seconds
    }
}
