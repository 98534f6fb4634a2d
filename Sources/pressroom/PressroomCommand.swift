import ArgumentParser
import PressroomDaemon

@main
struct PressroomCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pressroom")
    func run() async throws {}
}
