import ArgumentParser
import Foundation
import PressroomImaging

/// Where the product policies live; shared by the imaging commands.
struct PolicyOptions: ParsableArguments {
    @Option(name: .long, help: "Directory of product policies (*.yaml).")
    var policies: String = "config/policies"

    @Option(name: .long, help: "Directory of ICC profiles (default: ../profiles next to the policies).")
    var profiles: String?

    func loadCatalog() throws -> PolicyCatalog {
        try PolicyCatalog.load(
            directory: URL(fileURLWithPath: policies),
            profilesDirectory: profiles.map { URL(fileURLWithPath: $0) })
    }
}
