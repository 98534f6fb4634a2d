import ArgumentParser
import Foundation
import Logging
import PressroomDaemon

/// `--config` and `--consumer`, shared by every command that reads the config.
struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: "YAML config file (env PRESSROOM_CONFIG). Fields can be overridden by PRESSROOM_… variables.")
    var config: String?

    @Option(name: .long, help: "Consumer name, unique per live process (env PRESSROOM_CONSUMER; default: the host name).")
    var consumer: String?

    func load() throws -> ConfigurationLoader.Loaded {
        try Self.load(file: config, consumer: consumer)
    }

    /// The one way a command reads its config: the daemon's loader (file,
    /// `PRESSROOM_…` overrides, secrets, validation) with its error messages.
    /// Every command that takes `--config` goes through here.
    static func load(file: String?, consumer: String? = nil) throws -> ConfigurationLoader.Loaded {
        let file = file ?? ProcessInfo.processInfo.environment["PRESSROOM_CONFIG"]
        do {
            var loaded = try ConfigurationLoader().load(file: file)
            if let consumer { loaded.configuration.consumer = consumer }
            try ConfigurationLoader().validate(loaded.configuration)
            return loaded
        } catch let error as ConfigurationLoader.Invalid {
            throw ValidationError(error.description)
        }
    }
}

enum CommandLogging {
    /// stderr logging at the configured level, for one-shot commands.
    static func logger(_ configuration: PressroomConfiguration, label: String = "pressroom") -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = Logger.Level(rawValue: configuration.log.level) ?? .info
        return logger
    }
}
