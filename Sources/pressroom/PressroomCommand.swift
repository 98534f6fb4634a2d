import ArgumentParser
import PressroomDaemon

@main
struct PressroomCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pressroom",
        subcommands: [RenderCommand.self, InspectCommand.self, PolicyCommand.self]
    )
    func run() async throws {}
}
