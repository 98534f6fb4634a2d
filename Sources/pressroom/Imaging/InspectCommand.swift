import ArgumentParser
import Foundation
import Logging
import PressroomImaging

/// `pressroom inspect FILE`: prints the pre-checkout quality report for a photo.
struct InspectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Print the quality report of an image for every product.")

    @Argument(help: "Image file to inspect.")
    var file: String

    @Flag(name: .long, help: "Print the report as JSON.")
    var json = false

    @OptionGroup var options: PolicyOptions

    func run() async throws {
        let catalog = try options.loadCatalog()
        let data = try Data(contentsOf: URL(fileURLWithPath: file))
        let imaging = try Imaging(logger: Logger(label: "pressroom.imaging"))
        let report = try await imaging.inspect(source: data, catalog: catalog)
        if json {
            print(String(decoding: try report.jsonData(), as: UTF8.self))
            return
        }
        print(report.text(title: file))
    }
}
