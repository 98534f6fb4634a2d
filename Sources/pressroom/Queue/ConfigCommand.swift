import ArgumentParser
import Foundation
import PressroomDaemon
import Yams

struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Configuration tools.",
        subcommands: [Check.self])

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Validate the config and print it resolved (file + environment), secrets masked.")

        @OptionGroup var options: ConfigOptions

        func run() async throws {
            let loaded = try options.load()
            var resolved = loaded.configuration.masked
            resolved.consumer = resolved.consumerName
            print("# resolved configuration (valid)")
            for (field, variable) in loaded.overrides.sorted(by: { $0.key < $1.key }) {
                print("# \(field) from $\(variable)")
            }
            for warning in loaded.warnings {
                print("# warning: \(warning)")
            }
            print(try YAMLEncoder().encode(resolved), terminator: "")
        }
    }
}
