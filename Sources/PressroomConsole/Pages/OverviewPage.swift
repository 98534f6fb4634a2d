import Foundation
import PressroomQueue

/// Per queue: backlog, in-flight, delays, dead letters, consumers and the
/// last hour's per-minute counts. Cheap enough to poll: a handful of O(1)
/// commands and one MGET per queue, no scans.
struct OverviewBody: Sendable {
    struct Totals: Sendable {
        var lag = "0", pending = "0", delayed = "0", dead = "0", succeeded = "0", failed = "0"
        var hasDead = false, hasFailed = false
    }

    struct Bar: Sendable {
        var x: Int, w: Int, okY: Int, okH: Int, failY: Int, failH: Int
        var title: String
    }

    struct Chart: Sendable {
        var width: Int, height: Int
        var bars: [Bar]
        var peak: String
        var label: String
    }

    struct Row: Sendable {
        var name: String
        var stateClass: String
        var stateText: String
        var length: String, pending: String, lag: String, oldestPending: String, delayed: String, dead: String, consumers: String
        var hasDead: Bool
        var deadLink: String
        var succeeded: String, failed: String
        var chart: Chart
    }

    var totals: Totals
    var queues: [Row]

    static func load(_ source: ConsoleSource, now: Date = Date()) async throws -> OverviewBody {
        var rows: [Row] = []
        var sums = (lag: 0, pending: 0, delayed: 0, dead: 0, ok: 0, failed: 0)
        for queue in source.queues {
            let status = try await QueueAdmin.status(of: source.partitions(queue), client: source.client, now: now)
            // Per partition, then summed: the queue's row, and a row per partition below it.
            var perPartition: [[ThroughputCounters.Minute]] = []
            for keys in source.places(queue) {
                perPartition.append(try await ThroughputCounters.recent(keys: keys, client: source.client, now: now))
            }
            let minutes = perPartition.dropFirst().reduce(perPartition[0], Self.sum)
            let row = self.row(queue, status: status, minutes: minutes)
            sums.lag += status.lag ?? 0
            sums.pending += status.pending
            sums.delayed += status.delayed
            sums.dead += status.deadLetters
            sums.ok += row.ok
            sums.failed += row.failed
            rows.append(row.row)
            for (part, partMinutes) in zip(status.partitions ?? [], perPartition) {
                rows.append(self.row("\(queue)/\(part.partition ?? 0)", status: part, minutes: partMinutes, queue: queue).row)
            }
        }
        let totals = Totals(lag: Formatting.count(sums.lag), pending: Formatting.count(sums.pending), delayed: Formatting.count(sums.delayed),
                            dead: Formatting.count(sums.dead), succeeded: Formatting.count(sums.ok), failed: Formatting.count(sums.failed),
                            hasDead: sums.dead > 0, hasFailed: sums.failed > 0)
        return OverviewBody(totals: totals, queues: rows)
    }

    /// One row of the table: a queue, or (`name` QUEUE/P) one of its partitions.
    private static func row(_ name: String, status: QueueStatus, minutes: [ThroughputCounters.Minute], queue: String? = nil)
        -> (row: Row, ok: Int, failed: Int) {
        let ok = minutes.reduce(0) { $0 + $1.succeeded }, failed = minutes.reduce(0) { $0 + $1.failed }
        let (stateClass, stateText) = state(status)
        return (Row(
            name: name, stateClass: stateClass, stateText: stateText,
            length: Formatting.count(status.length), pending: Formatting.count(status.pending), lag: Formatting.count(status.lag),
            oldestPending: status.oldestPendingAge.map { Formatting.duration(seconds: $0) } ?? "—",
            delayed: Formatting.count(status.delayed), dead: Formatting.count(status.deadLetters),
            consumers: Formatting.count(status.liveConsumers), hasDead: status.deadLetters > 0,
            deadLink: "/console/dead?" + FormFields.query([("queue", queue ?? name)]),
            succeeded: Formatting.count(ok), failed: Formatting.count(failed), chart: chart(minutes, queue: name)), ok, failed)
    }

    /// Two partitions' minutes added up, minute by minute.
    private static func sum(_ a: [ThroughputCounters.Minute], _ b: [ThroughputCounters.Minute]) -> [ThroughputCounters.Minute] {
        var total = a
        for (index, minute) in b.enumerated() where index < total.count {
            total[index].succeeded += minute.succeeded
            total[index].failed += minute.failed
        }
        return total
    }

    static func state(_ status: QueueStatus) -> (String, String) {
        if !status.groupExists { return ("plain", "not started") }
        if status.liveConsumers == 0 { return (status.length > 0 ? "bad" : "warn", "no consumers") }
        if let age = status.oldestPendingAge, age > 600 { return ("warn", "slow") }
        if (status.lag ?? 0) > 1000 { return ("warn", "backlog") }
        return ("ok", "healthy")
    }

    /// 60 stacked bars (done below, failed on top), scaled to the busiest minute.
    static func chart(_ minutes: [ThroughputCounters.Minute], queue: String) -> Chart {
        let barWidth = 4, gap = 1, height = 36
        let peak = max(1, minutes.map { $0.succeeded + $0.failed }.max() ?? 1)
        var bars: [Bar] = []
        for (i, m) in minutes.enumerated() {
            let okH = m.succeeded == 0 ? 0 : max(1, m.succeeded * height / peak)
            let failH = m.failed == 0 ? 0 : max(1, m.failed * height / peak)
            bars.append(Bar(x: i * (barWidth + gap), w: barWidth, okY: height - okH, okH: okH, failY: max(0, height - okH - failH), failH: failH,
                            title: "\(Formatting.minuteLabel(m.minute)) UTC: \(m.succeeded) done, \(m.failed) failed"))
        }
        return Chart(width: minutes.count * (barWidth + gap), height: height, bars: bars,
                     peak: Formatting.count(minutes.map { $0.succeeded + $0.failed }.max() ?? 0),
                     label: "jobs per minute on \(queue) over the last hour")
    }
}
