import ArgumentParser
import PressroomDaemon

@main
struct PressroomCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pressroom",
        subcommands: [StoreCommand.self]
    )
    func run() async throws {}
}
