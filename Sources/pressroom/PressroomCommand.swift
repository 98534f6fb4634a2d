import ArgumentParser

@main
struct PressroomCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pressroom",
        abstract: "Print-on-demand photo worker: derives, renders, stores and fulfils jobs from Redis Streams.",
        subcommands: [
            RunCommand.self,
            EnqueueCommand.self,
            StatusCommand.self,
            DLQCommand.self,
            ConfigCommand.self,
            StoreCommand.self,
            RenderCommand.self,
            InspectCommand.self,
            PolicyCommand.self,
            OrderCommand.self,
            SweepCommand.self,
            UploadCommand.self,
            CostCommand.self,
            DemoCommand.self,
        ]
    )
}
