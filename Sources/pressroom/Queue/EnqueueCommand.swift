import ArgumentParser
import Foundation
import PressroomDaemon
import PressroomQueue

struct EnqueueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enqueue",
        abstract: "Add a job (plain XADD in the documented wire format) and print its job id.")

    @OptionGroup var options: ConfigOptions

    @Argument(help: "Job type, e.g. derive, render, sleep.")
    var type: String

    @Option(help: "Payload JSON object, or @FILE to read it from a file.")
    var payload: String = "{}"

    @Option(help: "Job id (the idempotency key); default: a new UUID.")
    var id: String?

    @Option(help: "Queue; default: the queue the job type is configured on.")
    var queue: String?

    func run() async throws {
        let loaded = try options.load()
        let configuration = loaded.configuration
        let types = configuration.jobTypeOptions
        guard let queue = queue ?? types.first(where: { $0.type == type })?.queue else {
            throw ValidationError("job type '\(type)' is not configured (known: \(types.map(\.type).sorted().joined(separator: ", "))); pass --queue to enqueue anyway")
        }
        guard configuration.queues[queue] != nil else {
            throw ValidationError("queue '\(queue)' is not configured (known: \(configuration.queues.keys.sorted().joined(separator: ", ")))")
        }
        var text = payload
        if text.hasPrefix("@") {
            text = try String(contentsOfFile: String(text.dropFirst()), encoding: .utf8)
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)), object is [String: Any] else {
            throw ValidationError("--payload must be a JSON object")
        }
        let jobID = id ?? UUID().uuidString.lowercased()
        let client = RedisClient(topology: try configuration.redisTopology, name: "enqueue")
        defer { client.shutdown() }
        try await QueueAdmin.enqueue(partitions: configuration.partitions(ofQueue: queue), client: client, id: jobID, type: type, payload: text)
        print(jobID)
    }
}
