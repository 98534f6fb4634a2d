import ArgumentParser
import Foundation
import PressroomDaemon

struct OrderCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "order",
        abstract: "Fulfilment orders.",
        subcommands: [Show.self])

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show",
            abstract: "An order's record, routing decision, vendor intents and results, and timeline with durations.")

        @OptionGroup var options: ConfigOptions

        @Argument(help: "The shop's order id.")
        var id: String

        @Flag(help: "Print JSON.")
        var json = false

        func run() async throws {
            let configuration = try options.load().configuration
            guard let text = try await OrderInspector.show(id: id, configuration: configuration, json: json) else {
                throw ValidationError("no order '\(id)'")
            }
            print(text)
        }
    }
}
