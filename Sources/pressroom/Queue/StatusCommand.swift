import ArgumentParser
import Foundation
import PressroomDaemon
import PressroomQueue

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Per queue: length, pending, lag, consumers with idle times, delayed and dead-letter counts.")

    @OptionGroup var options: ConfigOptions

    @Flag(help: "Print JSON for scripts.")
    var json = false

    func run() async throws {
        let configuration = try options.load().configuration
        let topology = try configuration.redisTopology
        let client = RedisClient(topology: topology, name: "status")
        defer { client.shutdown() }
        var statuses: [QueueStatus] = []
        for queue in configuration.queues.keys.sorted() {
            statuses.append(try await QueueAdmin.status(of: configuration.partitions(ofQueue: queue), client: client))
        }
        let servers = try await RedisTopologyReport.fetch(topology: topology, client: client)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(statuses), as: UTF8.self))
            return
        }
        servers.lines.forEach { print($0) }
        var warnings = [servers.refusal] + servers.warnings
        if case .sentinel(let sentinel) = topology {
            let view = try await RedisSentinel.shared(for: sentinel).view()
            print(view.summary)
            warnings.append(view.warning)
        }
        for line in warnings.compactMap({ $0 }) { print("WARNING: \(line)") }
        print(pad("QUEUE", 10) + pad("LENGTH", 9) + pad("PENDING", 9) + pad("LAG", 8) + pad("DELAYED", 9) + pad("DEAD", 7) + pad("LIVE", 6) + "OLDEST PENDING")
        for s in statuses {
            print(line(s, name: s.queue))
            // A partitioned queue's own lines, indented: where a backlog or dead letters sit.
            for p in s.partitions ?? [] { print(line(p, name: "  \(s.queue)/\(p.partition ?? 0)")) }
            for c in s.consumers {
                print("  consumer \(pad(c.name, 24)) pending \(pad("\(c.pending)", 6)) idle \(String(format: "%.1fs", c.idle))"
                      + (c.notice.map { "  WARNING: \($0)" } ?? ""))
            }
        }
    }

    private func line(_ s: QueueStatus, name: String) -> String {
        let oldest = s.oldestPendingAge.map { String(format: "%.1fs", $0) } ?? "-"
        return pad(name, 10) + pad("\(s.length)", 9) + pad("\(s.pending)", 9) + pad(s.lag.map(String.init) ?? "?", 8)
            + pad("\(s.delayed)", 9) + pad("\(s.deadLetters)", 7) + pad("\(s.liveConsumers)", 6) + oldest
    }

    private func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }
}
