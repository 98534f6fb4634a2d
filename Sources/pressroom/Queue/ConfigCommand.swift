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
            var resolved = loaded.configuration
            resolved.redis.url = SecretMasking.maskURL(resolved.redis.url)
            if resolved.storage.s3?.secretAccessKey != nil { resolved.storage.s3?.secretAccessKey = "****" }
            if resolved.storage.s3?.sessionToken != nil { resolved.storage.s3?.sessionToken = "****" }
            for name in resolved.vendors.keys {
                if resolved.vendors[name]?.auth.apiKey != nil { resolved.vendors[name]?.auth.apiKey = "****" }
                if resolved.vendors[name]?.auth.token != nil { resolved.vendors[name]?.auth.token = "****" }
                if resolved.vendors[name]?.auth.clientSecret != nil { resolved.vendors[name]?.auth.clientSecret = "****" }
                if resolved.vendors[name]?.webhooks != nil { resolved.vendors[name]?.webhooks?.secret = "****" }
            }
            for i in resolved.admin.console.users.indices {
                if resolved.admin.console.users[i].password != nil { resolved.admin.console.users[i].password = "****" }
                if resolved.admin.console.users[i].token != nil { resolved.admin.console.users[i].token = "****" }
            }
            resolved.consumer = resolved.consumerName
            print("# resolved configuration (valid)")
            for (field, variable) in loaded.overrides.sorted(by: { $0.key < $1.key }) {
                print("# \(field) from $\(variable)")
            }
            for name in loaded.unmatched {
                print("# warning: $\(name) matches no config field")
            }
            print(try YAMLEncoder().encode(resolved), terminator: "")
        }
    }
}
