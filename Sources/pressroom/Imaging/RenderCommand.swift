import ArgumentParser
import Foundation
import Logging
import PressroomImaging

/// `pressroom render`: renders and verifies one print master locally, without Redis.
struct RenderCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Render a print master from an image and a product policy.")

    @Option(name: .long, help: "Product policy name.")
    var policy: String

    @Option(name: .long, help: "Source image file.")
    var input: String

    @Option(name: .long, help: "Where to write the master.")
    var output: String

    @Option(name: .long, help: "Crop x,y,w,h in normalised coordinates of the upright image.")
    var crop: String?

    @OptionGroup var options: PolicyOptions

    func validate() throws {
        if let crop, CropRect(parsing: crop) == nil {
            throw ValidationError("--crop must be four numbers x,y,w,h between 0 and 1")
        }
    }

    func run() async throws {
        let catalog = try options.loadCatalog()
        let resolved = try catalog.policy(named: policy)
        let source = try Data(contentsOf: URL(fileURLWithPath: input))
        let imaging = try Imaging(logger: Logger(label: "pressroom.imaging"))
        // The preview is what the customer saw; verifying against it catches a wrong turn or crop.
        let derived = try await imaging.derive(source: source, catalog: catalog)
        let preview = catalog.derivatives.first { $0.policy.kind == .preview }.flatMap { derived.output(policy: $0.name)?.data }
        let result = try await imaging.render(source: source, policy: resolved, crop: crop.flatMap(CropRect.init(parsing:)), preview: preview)
        try result.master.data.write(to: URL(fileURLWithPath: output))
        let check = result.verification
        print("\(output): \(check.width)×\(check.height) \(check.colorSpace), \(result.master.data.count) bytes, key \(result.master.key)")
        if let dpi = result.effectiveDPI { print(String(format: "effective DPI %.0f, crop %@", dpi, result.crop.description)) }
        print("verified: profile \(check.profileBytes) bytes, deviation \(check.pixelDeviation), preview difference \(check.previewDifference.map { String($0) } ?? "n/a")")
    }
}
