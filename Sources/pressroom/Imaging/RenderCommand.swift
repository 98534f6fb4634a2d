import ArgumentParser
import Foundation
import Logging
import PressroomImaging

/// `pressroom render`: renders and verifies one print master locally, without Redis.
struct RenderCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Make a policy's output from an image: a product's print master, or a thumbnail or preview as derive makes it.")

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
        let destination = URL(fileURLWithPath: output)
        // Spool the master beside its destination, so putting it there is a rename.
        let imaging = try Imaging(configuration: ImagingConfiguration(spoolDirectory: destination.deletingLastPathComponent()),
                                  logger: Logger(label: "pressroom.imaging"))
        // The same code path as the jobs: a preview comes out as derive stores it, a product's master as render does.
        let result = try await imaging.policyOutput(source: source, policy: resolved, catalog: catalog, crop: crop.flatMap(CropRect.init(parsing:)))
        guard let render = result.render else {
            let data = result.output?.data ?? Data()
            try data.write(to: destination)
            print("\(output): \(result.width)×\(result.height) \(resolved.policy.kind.rawValue), \(data.count) bytes, key \(result.key)")
            return
        }
        do {
            if FileManager.default.fileExists(atPath: destination.path) { try FileManager.default.removeItem(at: destination) }
            try FileManager.default.moveItem(at: render.master.file, to: destination)
        } catch {
            try? FileManager.default.removeItem(at: render.master.file)
            throw error
        }
        let check = render.verification
        print("\(output): \(check.width)×\(check.height) \(check.colorSpace), \(render.master.byteCount) bytes, key \(result.key)")
        if let dpi = render.effectiveDPI { print(String(format: "effective DPI %.0f, crop %@", dpi, render.crop.description)) }
        if let dpi = render.effectiveDPI, dpi < resolved.policy.resolution.minimum {
            // Written for the designer to look at, but a render job would dead-letter this order line.
            FileHandle.standardError.write(Data(String(format: "warning: %.0f DPI is below %@'s minimum of %.0f DPI: the render job refuses this photo for this product\n",
                                                      dpi, resolved.name, resolved.policy.resolution.minimum).utf8))
        }
        print("verified: profile \(check.profileBytes) bytes, deviation \(check.pixelDeviation), preview difference \(check.previewDifference.map { String($0) } ?? "n/a")")
    }
}
