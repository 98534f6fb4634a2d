import Foundation
import Metrics
import PressroomImaging
import PressroomQueue
import PressroomStorage

/// `derive`: an upload has landed. Reads it from the object store, writes the
/// thumbnail, preview and quality report under deterministic keys (create-only,
/// so running twice writes nothing new) and returns the keys and the report.
struct DeriveJob: JobHandler {
    static let type = "derive"

    struct Payload: Decodable {
        /// Object key of the upload, e.g. `uploads/8841.jpg`.
        var source: String
    }

    struct Output: Encodable {
        var key: String
        var policy: String?
        var contentType: String
        var bytes: Int
        var created: Bool
    }

    struct Result: Encodable {
        var source: String
        var sha256: String
        var outputs: [Output]
        var report: QualityReport
    }

    let services: PressroomDaemon.ImageServices
    let settings: ImagingSettings

    private var imaging: Imaging { services.imaging }
    private var catalog: PolicyCatalog { services.catalog }

    func handle(_ context: JobContext) async throws -> Data? {
        let payload = try context.job.decodePayload(Payload.self)
        // Size by HEAD, quota, malware scan, write lease: before anything decodes it.
        let admitted = try await services.intake.admit(context, source: payload.source)
        let source = admitted.source
        let result: DeriveResult
        do {
            result = try await imaging.derive(source: admitted.content, catalog: catalog)
        } catch {
            await services.intake.release(admitted)
            throw JobFailure.classify(error, while: "deriving \(source)")
        }
        let outcomes = try await services.intake.store(
            admitted, result.outputs.map { .init(key: $0.key, data: $0.data, contentType: $0.contentType) }, stamp: "derived_at")
        var outputs: [Output] = []
        for (output, outcome) in zip(result.outputs, outcomes) {
            outputs.append(Output(key: output.key, policy: output.policy, contentType: output.contentType, bytes: output.data.count, created: outcome == .created))
            if output.policy == settings.previewPolicy, let enqueuedAt = context.job.enqueuedAt {
                Metrics.Timer(label: "pressroom_enqueue_to_preview_seconds", preferredDisplayUnit: .seconds)
                    .recordSeconds(max(0, Date().timeIntervalSince(enqueuedAt)))
            }
        }
        context.logger.info("derived", metadata: ["source": "\(source)", "created": "\(outputs.filter(\.created).count)", "outputs": "\(outputs.count)"])
        return try JSONEncoder.sorted.encode(Result(source: source, sha256: result.sourceSHA256, outputs: outputs, report: result.report))
    }
}

extension JSONEncoder {
    /// Stable output: results land in events and completed-id records.
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
