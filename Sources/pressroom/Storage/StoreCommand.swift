import ArgumentParser

/// `pressroom store ...`: operator tools for the configured object store.
struct StoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Check and use the object store (S3 or local filesystem).",
        subcommands: [
            StoreCheckCommand.self, StorePutCommand.self, StoreGetCommand.self, StoreHeadCommand.self, StorePresignCommand.self,
        ]
    )
}
