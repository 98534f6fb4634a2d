import Foundation
import PressroomFulfillment
import PressroomImaging
import PressroomQueue
import PressroomStorage

/// `render`: an order line is paid. Renders the print master for a product
/// policy and the customer's crop, verifies it (size, profile, colour space,
/// not blank, and against the upload's preview when derive has run), and
/// stores it create-only under a deterministic key. A render of an order line
/// (`order` and `line` in the payload, from the `order` job's fan-out) then
/// records its master on the order, or fails the order naming the line.
struct RenderJob: JobHandler {
    static let type = "render"

    struct Payload: Decodable {
        var source: String
        /// Product policy name, e.g. `print-4x6`.
        var policy: String
        /// The customer's crop in normalised coordinates (0-1).
        var crop: CropRect?
        /// The order line this render is for (with `order`), from the `order` job.
        var line: Int?
    }

    struct Result: Encodable {
        var source: String
        var policy: String
        var key: String
        var contentType: String
        var bytes: Int
        var created: Bool
        var crop: CropRect
        var effectiveDPI: Double?
        var verification: VerificationResult
        var comparedWithPreview: Bool
    }

    let services: PressroomDaemon.ImageServices
    let settings: ImagingSettings
    /// The order workflow's fan-in; nil in a process that cannot reach order records.
    var workflow: OrderWorkflow?
    /// The type's maximum attempts: a transient failure on the last one fails the order too.
    var maxAttempts = Int.max

    private var imaging: Imaging { services.imaging }
    private var catalog: PolicyCatalog { services.catalog }
    private var store: any ObjectStore { services.store }

    func handle(_ context: JobContext) async throws -> Data? {
        let started = OrderStore.nowMs()
        let payload = try context.job.decodePayload(Payload.self)
        guard let workflow, let line = payload.line, let order = try SourceIntake.meta(of: context.job).order else {
            return try JSONEncoder.sorted.encode(try await render(context, payload))
        }
        do {
            let result = try await render(context, payload)
            let master = try await verifiedMaster(result)
            let what = try await workflow.masterReady(order: order, line: line, master: master, startedAt: started, finishedAt: OrderStore.nowMs())
            context.logger.info("order line rendered", metadata: ["order_id": "\(order)", "line": "\(line)", "outcome": "\(what)"])
            return try JSONEncoder.sorted.encode(result)
        } catch {
            // A shutdown or a quota deferral is not a failure of the line, nor
            // is a run cut off by the job timeout: the engine retries it or
            // dead-letters it, and its dead-letter hook fails the order then.
            if error is CancellationError || error is JobDeferral || Task.isCancelled { throw error }
            let classified = error as? JobError ?? .transient("\(error)")
            guard classified.errorClass == .permanent || context.job.attempt >= maxAttempts else { throw error }
            // The line is lost for now: fail the order, naming the line; the dead
            // letter carries order, line and reason for the operator's replay.
            try await workflow.lineFailed(order: order, line: line, reason: classified.message)
            throw JobError(classified.errorClass, "order \(order) line \(line): \(classified.message)", retryAfter: classified.retryAfter)
        }
    }

    /// The stored master as the store reports it (size, SHA-256), so the fan-in
    /// records what a vendor will download, not what this run computed.
    private func verifiedMaster(_ result: Result) async throws -> OrderWorkflow.Master {
        let head: ObjectMetadata?
        do {
            head = try await store.head(result.key)
        } catch {
            throw JobFailure.classify(error, while: "checking master \(result.key)")
        }
        guard let head else { throw JobError.transient("master \(result.key) is not in the store right after it was stored") }
        return OrderWorkflow.Master(key: result.key, sha256: head.checksumSHA256.flatMap(FulfillJob.hex(base64:)), bytes: head.size)
    }

    private func render(_ context: JobContext, _ payload: Payload) async throws -> Result {
        let policy: ResolvedPolicy
        do {
            policy = try catalog.policy(named: payload.policy)
        } catch {
            throw JobError.permanent("unknown product policy '\(payload.policy)' (known: \(catalog.products.map(\.name).sorted().joined(separator: ", ")))")
        }
        // The source goes to a spool file, never into memory whole, and is removed after the render.
        return try await SourceSpool.using(directory: imaging.configuration.spoolDirectory) { spool in
            // Size by HEAD, quota, download into the spool, malware scan of the file, write lease: before anything decodes it.
            let admitted = try await services.intake.admit(context, source: payload.source, spooledTo: spool)
            return try await render(context, payload, policy: policy, admitted: admitted)
        }
    }

    private func render(_ context: JobContext, _ payload: Payload, policy: ResolvedPolicy,
                        admitted: SourceIntake.Admitted<SourceSpool.Filled>) async throws -> Result {
        let source = admitted.source
        // The preview derive wrote for this upload, if any: verification compares against it.
        var preview: Data?
        if let previewPolicy = try? catalog.policy(named: settings.previewPolicy) {
            let key = Imaging.derivedKey(sourceSHA256: admitted.sha256, policy: previewPolicy)
            preview = try? await store.get(key)
        }
        let result: RenderResult
        do {
            result = try await imaging.render(sourceFile: admitted.content.file, sourceSHA256: admitted.sha256,
                                              policy: policy, crop: payload.crop, preview: preview)
        } catch {
            await services.intake.release(admitted)
            throw JobFailure.classify(error, while: "rendering \(source) as \(policy.name)")
        }
        // The master is a spool file: gone once stored, refused, or on any failure from here.
        defer { try? FileManager.default.removeItem(at: result.master.file) }
        // The policy's resolution floor: a master below it would print visibly soft.
        if let dpi = result.effectiveDPI, dpi < policy.policy.resolution.minimum {
            await services.intake.release(admitted)
            throw JobError.permanent(String(format: "effective resolution %.0f DPI is below the %@ minimum of %.0f DPI; the customer must choose a smaller product or a larger photo",
                                            dpi, policy.name, policy.policy.resolution.minimum))
        }
        let master = result.master
        // A render is a paid order line: the source is kept for retention.orders from now.
        let outcome = try await services.intake.store(
            admitted, [.init(key: master.key, body: .file(master.file, byteCount: master.byteCount, sha256: master.sha256), contentType: master.contentType)],
            stamp: "ordered_at")[0]
        if outcome == .created, let order = (try? SourceIntake.meta(of: context.job).order) ?? CostRecorder.orderTag(context.job.id) {
            try? await services.orders.addWritten(order: order, bytes: Int64(master.byteCount))
        }
        context.logger.info("rendered", metadata: ["key": "\(master.key)", "created": "\(outcome == .created)"])
        return Result(
            source: source, policy: policy.name, key: master.key, contentType: master.contentType, bytes: master.byteCount,
            created: outcome == .created, crop: result.crop, effectiveDPI: result.effectiveDPI,
            verification: result.verification, comparedWithPreview: preview != nil)
    }
}
