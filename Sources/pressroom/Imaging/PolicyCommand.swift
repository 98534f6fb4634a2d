import ArgumentParser
import Foundation
import PressroomImaging

/// `pressroom policy ...`: tools for product policies.
struct PolicyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Work with product policies.",
        subcommands: [Check.self])

    /// `pressroom policy check`: validates every policy and prints its digest.
    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Validate the product policies and print their digests.")

        @OptionGroup var options: PolicyOptions

        func run() async throws {
            let catalog = try options.loadCatalog()
            for resolved in catalog.policies {
                let policy = resolved.policy
                let (width, height) = policy.pixelSize
                let bleed = policy.bleedPixels > 0 ? " +\(policy.bleedPixels)px bleed" : ""
                print("\(resolved.name.padding(toLength: 16, withPad: " ", startingAt: 0)) \(policy.kind.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)) \(width)×\(height)px\(bleed) \(resolved.profile.name) \(resolved.shortDigest)")
            }
            print("\(catalog.policies.count) policies OK, catalog digest \(catalog.digest.prefix(12))")
        }
    }
}
