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
        let metrics = PressroomDaemon.bootstrap(loaded.configuration)
        var logger = Logger(label: "pressroom")
        logger.logLevel = Logger.Level(rawValue: loaded.configuration.log.level) ?? .info
        for name in loaded.unmatched {
            logger.warning("environment variable matches no config field", metadata: ["variable": "\(name)"])
        }
        try await PressroomDaemon(configuration: loaded.configuration, logger: logger).run(metrics: metrics)
    }
}
