import ArgumentParser
import Foundation
import PressroomDaemon

struct UploadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "upload",
        abstract: "Uploads' lifecycle records.",
        subcommands: [Show.self])

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show",
            abstract: "An upload's record: content hash, outputs, bytes written, CPU seconds of its derive and renders, order use.")

        @OptionGroup var options: ConfigOptions

        @Argument(help: "Object key of the upload, e.g. uploads/8841.jpg.")
        var key: String

        @Flag(help: "Print JSON.")
        var json = false

        func run() async throws {
            let configuration = try options.load().configuration
            let record = try await PressroomDaemon(configuration: configuration, logger: CommandLogging.logger(configuration)).uploadRecord(key)
            if json {
                print(String(decoding: try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys, .prettyPrinted]), as: UTF8.self))
                return
            }
            guard !record.isEmpty else {
                print("no record for \(key) (never derived through this deployment, or erased)")
                return
            }
            for (field, value) in record.sorted(by: { $0.key < $1.key }) {
                print("\(field.padding(toLength: 20, withPad: " ", startingAt: 0)) \(Self.display(field, value))")
            }
        }

        static func display(_ field: String, _ value: String) -> String {
            if field.hasSuffix("_at"), let ms = Double(value) {
                return ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: ms / 1000))
            }
            return value
        }
    }
}

/// Until the order workflow's `pressroom order show` prints it, an order's cost on its own.
struct CostCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cost",
        abstract: "Costs rolled up from the CPU time the engine attributes to each job.",
        subcommands: [Order.self])

    struct Order: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "order",
            abstract: "An order's cost: CPU seconds of the renders and other jobs that named it (payload.order or a {ORDER} job id), bytes written.")

        @OptionGroup var options: ConfigOptions

        @Argument(help: "Order id, as the render payloads name it (payload.order).")
        var id: String

        func run() async throws {
            let configuration = try options.load().configuration
            let cost = try await PressroomDaemon(configuration: configuration, logger: CommandLogging.logger(configuration)).orderCost(id)
            print("order \(id)")
            guard !cost.isEmpty else {
                print("  cost: nothing recorded (no job named this order)")
                return
            }
            let cpu = Double(cost["cpu_seconds"] ?? "0") ?? 0
            print(String(format: "  cost: %.3f CPU seconds over %@ job runs, %@ bytes written, %@ vendor calls",
                         cpu, cost["runs"] ?? "0", cost["bytes_written"] ?? "0", cost["vendor_calls"] ?? "0"))
        }
    }
}
