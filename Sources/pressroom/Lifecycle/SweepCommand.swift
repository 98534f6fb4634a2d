import ArgumentParser
import Foundation
import PressroomDaemon
import PressroomQueue

struct SweepCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Expire old drafts: print what would go (--dry-run), or enqueue today's sweep job (what the systemd timer runs).")

    @OptionGroup var options: ConfigOptions

    @Flag(help: "List the uploads the sweep would delete now, with their sizes; delete nothing.")
    var dryRun = false

    @Option(help: "Stop after this many expired uploads.")
    var limit: Int?

    @Option(help: "Job id; default sweep-YYYY-MM-DD (UTC), so timers on several hosts enqueue one sweep a day.")
    var id: String?

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
    }

    func run() async throws {
        let loaded = try options.load()
        let configuration = loaded.configuration
        if dryRun {
            let daemon = PressroomDaemon(configuration: configuration, logger: CommandLogging.logger(configuration))
            let report = try await daemon.sweepDryRun(limit: limit)
            print(String(decoding: report, as: UTF8.self))
            return
        }
        guard let queue = configuration.jobTypeOptions.first(where: { $0.type == "sweep" })?.queue else {
            throw ValidationError("job type 'sweep' is not configured (add jobs.sweep with its queue)")
        }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        let jobID = id ?? "sweep-\(formatter.string(from: Date()))"
        var payload = "{}"
        if let limit { payload = #"{"limit":\#(limit)}"# }
        let client = RedisClient(topology: try configuration.redisTopology, name: "sweep")
        defer { client.shutdown() }
        try await QueueAdmin.enqueue(partitions: configuration.partitions(ofQueue: queue), client: client, id: jobID, type: "sweep", payload: payload)
        print(jobID)
    }
}
