import ArgumentParser
import Logging
import PressroomDaemon

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the worker pool until SIGTERM/SIGINT, then drain and exit 0.")

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let loaded = try options.load()
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = Logger.Level(rawValue: loaded.configuration.log.level) ?? .info
            return handler
        }
        let logger = Logger(label: "pressroom")
        for name in loaded.unmatched {
            logger.warning("environment variable matches no config field", metadata: ["variable": "\(name)"])
        }
        try await PressroomDaemon(configuration: loaded.configuration, logger: logger).run()
    }
}
