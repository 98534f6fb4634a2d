import Foundation
import PressroomQueue

/// Every consumer of the fleet (from the heartbeat sets), with its queues,
/// its version and its in-flight jobs (the group's pending entries, at most
/// ``jobsShown`` per consumer and queue). Versions and start times come from
/// each consumer's heartbeat hash; without one (an older worker, or expired)
/// a job shows its entry's age instead.
struct ConsumersBody: Sendable {
    struct Job: Sendable {
        var jobID: String, type: String, queue: String, runningFor: String, deliveries: String, link: String
    }

    struct Row: Sendable {
        var name: String
        var stateClass: String, stateText: String
        var queues: [String]
        var version: String
        var lastHeartbeat: String
        var inFlightCount: String
        var jobs: [Job]
        var hasJobs: Bool
        var moreJobs: String?
    }

    var consumers: [Row]
    var hasConsumers: Bool

    static let jobsShown = 20

    static func load(_ source: ConsoleSource, now: Date = Date()) async throws -> ConsumersBody {
        struct Gathered {
            var queues: [String] = []
            var heartbeat: Double = 0
            var version: String?
            var pending = 0
            var jobs: [Job] = []
        }
        var byName: [String: Gathered] = [:]
        let nowMs = now.timeIntervalSince1970 * 1000
        // Every partition: a consumer heartbeats and holds entries in each.
        for keys in source.places() {
            let queue = keys.queue
            let beats = try await source.client.call(["ZRANGE", keys.consumers, "0", "-1", "WITHSCORES"]).array ?? []
            var beating: [String] = []
            var index = 0
            while index + 1 < beats.count {
                let name = beats[index].string ?? "?"
                let score = Double(beats[index + 1].string ?? "") ?? 0
                beating.append(name)
                if byName[name]?.queues.contains(queue) != true { byName[name, default: Gathered()].queues.append(queue) }
                byName[name]!.heartbeat = max(byName[name]!.heartbeat, score)
                index += 2
            }
            var started: [String: [String: Double]] = [:]
            for name in beating {
                let info = Dictionary(Self.pairs(try await source.client.call(["HGETALL", keys.consumerInfo(name)])), uniquingKeysWith: { a, _ in a })
                if let version = info["version"]?.string, !version.isEmpty { byName[name]!.version = version }
                started[name] = Self.startTimes(info["in_flight"]?.string)
            }
            let info = try await source.client.send(["XINFO", "CONSUMERS", keys.stream, QueueKeys.group])
            for consumer in info.array ?? [] {
                let fields = Dictionary(Self.pairs(consumer), uniquingKeysWith: { a, _ in a })
                guard let name = fields["name"]?.string, let pending = fields["pending"]?.int, pending > 0 else { continue }
                byName[name, default: Gathered()].pending += Int(pending)
                if !byName[name]!.queues.contains(queue) { byName[name]!.queues.append(queue) }
                let entries = try await source.client.call(["XPENDING", keys.stream, QueueKeys.group, "-", "+", String(jobsShown), name]).array ?? []
                for entry in entries {
                    guard let parts = entry.array, parts.count >= 4, let id = parts[0].string else { continue }
                    let fields = StreamEntry.parseEntries(try await source.client.call(["XRANGE", keys.stream, id, id])).first?.fields ?? []
                    let map = Dictionary(fields, uniquingKeysWith: { a, _ in a })
                    let jobID = map[WireFormat.Field.id] ?? "(entry \(id))"
                    // When the consumer started it, from its heartbeat; else the
                    // entry's own time (XPENDING's idle time is reset while a job runs).
                    let runningFor: String
                    if let since = started[name]?[jobID] {
                        runningFor = Formatting.duration(seconds: max(0, nowMs - since) / 1000)
                    } else {
                        let since = Double(id.split(separator: "-").first.flatMap { Int64($0) } ?? 0)
                        runningFor = "queued " + Formatting.duration(seconds: max(0, nowMs - since) / 1000) + " ago"
                    }
                    byName[name]!.jobs.append(Job(
                        jobID: jobID, type: map[WireFormat.Field.type] ?? "?", queue: queue,
                        runningFor: runningFor, deliveries: String(parts[3].int ?? 1),
                        link: "/console/jobs?" + FormFields.query([("id", jobID)])))
                }
            }
        }
        let rows = byName.sorted { $0.key < $1.key }.map { name, g -> Row in
            let silence = g.heartbeat > 0 ? max(0, nowMs - g.heartbeat) / 1000 : nil
            let live = silence.map { $0 <= QueueAdmin.liveConsumerWindow } ?? false
            return Row(name: name, stateClass: live ? "ok" : "bad", stateText: live ? "live" : "silent",
                       queues: g.queues.sorted(), version: g.version ?? "unknown", lastHeartbeat: silence.map { Formatting.duration(seconds: $0) + " ago" } ?? "never",
                       inFlightCount: Formatting.count(g.pending), jobs: g.jobs, hasJobs: !g.jobs.isEmpty,
                       moreJobs: g.pending > g.jobs.count ? Formatting.count(g.pending - g.jobs.count) : nil)
        }
        return ConsumersBody(consumers: rows, hasConsumers: !rows.isEmpty)
    }

    /// Job id → start (ms) from a heartbeat's `in_flight` JSON; empty when absent or unreadable.
    static func startTimes(_ json: String?) -> [String: Double] {
        struct Record: Decodable { let id: String; let started_at: Double }
        guard let json, let records = try? JSONDecoder().decode([Record].self, from: Data(json.utf8)) else { return [:] }
        return Dictionary(records.map { ($0.id, $0.started_at) }, uniquingKeysWith: { a, _ in a })
    }

    static func pairs(_ value: RedisValue) -> [(String, RedisValue)] {
        guard let values = value.array else { return [] }
        return stride(from: 0, to: values.count - 1, by: 2).map { (values[$0].string ?? "", values[$0 + 1]) }
    }
}
