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
        let source = report.source
        print("\(file): \(source.format.rawValue) \(source.width)×\(source.height), orientation \(source.orientation), \(source.bitsPerSample)-bit, profile \(source.embeddedProfile ?? "none (sRGB assumed)")")
        print(String(format: "sharpness %.1f%@", report.sharpness, report.blurry ? " (blurry)" : ""))
        for product in report.products {
            let name = product.policy.padding(toLength: 16, withPad: " ", startingAt: 0)
            let verdict = product.verdict.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0)
            var line = name + " " + verdict + String(format: " %6.0f DPI  crop loss %4.1f%%", product.effectiveDPI, product.cropLossPercent)
            if let gamut = product.gamutWarningPercent { line += String(format: "  out of gamut %.1f%%", gamut) }
            print(line)
            for reason in product.reasons { print("    \(reason)") }
        }
        print("suggested: \(report.suggestedProducts.joined(separator: ", "))")
    }
}
