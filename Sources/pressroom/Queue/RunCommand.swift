import ArgumentParser
import Logging
import PressroomDaemon

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the worker pool until SIGTERM/SIGINT, then drain and exit 0.")

    @OptionGroup var options: ConfigOptions

    @Option(help: "systemd instance name (%i); a number N puts the admin port at admin.port + N.")
    var instance: String?

    func run() async throws {
        var loaded = try options.load()
        if let instance {
            do {
                try loaded.configuration.adopt(instance: instance)
            } catch let error as ConfigurationLoader.Invalid {
                throw ValidationError(error.description)
            }
        }
        let metrics = PressroomDaemon.bootstrap(loaded.configuration)
        var logger = Logger(label: "pressroom")
        logger.logLevel = Logger.Level(rawValue: loaded.configuration.log.level) ?? .info
        for warning in loaded.warnings {
            logger.warning("\(warning)")
        }
        try await PressroomDaemon(configuration: loaded.configuration, logger: logger).run(metrics: metrics)
    }
}
