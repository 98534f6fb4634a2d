import Foundation
import PressroomFulfillment
import PressroomImaging
import PressroomQueue
import PressroomStorage

/// `order`: a paid shop order whose masters are still to be rendered. The
/// shop enqueues this one job; Pressroom renders every line, verifies the
/// masters, and the last one enqueues the `fulfill` job (docs/orders.md).
///
/// Runs on the fulfil queue, so the job, the order record and the `fulfill`
/// job it leads to share one hash slot.
struct OrderJob: JobHandler {
    static let type = "order"

    let jobs: FulfillmentJobs
    let workflow: OrderWorkflow
    let imaging: ImagingSettings
    /// In a process that renders too: each source's header is probed up front
    /// (crop against the real image, resolution floor). Without, the render checks.
    var images: PressroomDaemon.ImageServices?

    struct Result: Encodable {
        var orderId: String
        var state: String
        var lines: Int
        /// Render job ids enqueued by this run (all of them on a first run; none once every line is done).
        var renders: [String]
    }

    func handle(_ context: JobContext) async throws -> Data? {
        let order = try Self.decode(context.job.payload)
        try validate(order)
        try await checkSources(order)
        try await probeSources(order, context: context)
        let record = try await workflow.record(order)
        // Sources an order uses are kept for retention.orders (sweep), from the moment it is paid.
        if let ledger = workflow.ledger {
            for source in Set(order.lines.map(\.source)) {
                do {
                    try await ledger.markOrdered(upload: source, order: order.orderId)
                } catch {
                    throw JobFailure.classify(error, while: "marking \(source) ordered")
                }
            }
        }
        let fanned = try await workflow.fanOut(order, record: record)
        context.logger.info("order fanned out", metadata: ["order_id": "\(order.orderId)", "state": "\(fanned.state)", "renders": "\(fanned.enqueued.count)"])
        return try JSONEncoder.sorted.encode(Result(orderId: order.orderId, state: fanned.state.rawValue, lines: order.lines.count, renders: fanned.enqueued))
    }

    /// Decodes the payload; a missing or mistyped field is named with its path (`lines[1].source`).
    static func decode(_ payload: Data) throws -> ShopOrder {
        do {
            return try JSONDecoder().decode(ShopOrder.self, from: payload)
        } catch let error as DecodingError {
            func path(_ codingPath: [any CodingKey]) -> String {
                codingPath.reduce("") { text, key in
                    key.intValue.map { "\(text)[\($0)]" } ?? (text.isEmpty ? key.stringValue : "\(text).\(key.stringValue)")
                }
            }
            switch error {
            case .keyNotFound(let key, let context):
                throw JobError.permanent("\(path(context.codingPath + [key])): is required")
            case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
                throw JobError.permanent("\(path(context.codingPath)): \(context.debugDescription)")
            @unknown default:
                throw JobError.permanent("payload does not match the order schema: \(error)")
            }
        }
    }

    /// Everything checkable without rendering; each problem names its field.
    func validate(_ order: ShopOrder) throws {
        func fail(_ field: String, _ problem: String) -> JobError { .permanent("\(field): \(problem)") }
        guard QuotaGate.isValidShop(order.orderId) else { throw fail("orderId", "must be 1-64 of A-Z a-z 0-9 . _ -") }
        for (field, value) in [("shop", order.shop), ("customer", order.customer)] {
            if let value, !QuotaGate.isValidShop(value) { throw fail(field, "must be 1-64 of A-Z a-z 0-9 . _ -") }
        }
        guard !order.lines.isEmpty else { throw fail("lines", "needs at least one line") }
        guard order.lines.count <= 100 else { throw fail("lines", "at most 100 lines") }
        if let country = order.country, country != order.recipient.address.countryCode {
            throw fail("country", "'\(country)' differs from recipient.address.countryCode '\(order.recipient.address.countryCode)'")
        }
        for (index, line) in order.lines.enumerated() {
            do {
                _ = try imaging.checkSource(line.source)
            } catch let error as JobError {
                throw fail("lines[\(index)].source", error.message)
            }
            guard jobs.products.contains(line.product) else {
                throw fail("lines[\(index)].product", "unknown product policy '\(line.product)' (known: \(jobs.products.sorted().joined(separator: ", ")))")
            }
            guard (1...10_000).contains(line.quantity) else { throw fail("lines[\(index)].quantity", "must be 1-10000") }
            if let crop = line.crop {
                do {
                    _ = try crop.validated()
                } catch {
                    throw fail("lines[\(index)].crop", "outside the image: \(error)")
                }
            }
        }
        // The rest as a fulfil payload would be checked (recipient, reference,
        // vendors that ship it): an order nobody can print is refused before rendering.
        let provisional = order.fulfillment(masters: order.lines.map { _ in "" })
        do {
            try FulfillJob(jobs: jobs).validate(provisional, masters: false)
            _ = try jobs.fulfillment.router.candidates(for: provisional)
        } catch let error as JobError {
            throw JobError(error.errorClass, error.message.replacingOccurrences(of: "items[", with: "lines["), retryAfter: error.retryAfter)
        }
    }

    /// Reads each source's header (after the malware scan, when configured,
    /// whose verdict the renders then reuse) and plans each line's render: a
    /// crop the product cannot take or a resolution below its floor is refused
    /// now, naming the line, instead of failing the order after it was paid.
    func probeSources(_ order: ShopOrder, context: JobContext) async throws {
        guard let images else { return }
        var probes: [String: ImageProbe] = [:]
        for (index, line) in order.lines.enumerated() {
            let field = "lines[\(index)]"
            let probe: ImageProbe
            if let known = probes[line.source] {
                probe = known
            } else {
                let data = try await images.store.readSource(line.source)
                try await images.intake.scan?.check(source: line.source, data: data, sha256: Imaging.sha256(data), context: context)
                do {
                    probe = try await images.imaging.probe(data)
                } catch {
                    throw JobError.permanent("\(field).source: '\(line.source)' is not a usable image: \(error)")
                }
                probes[line.source] = probe
            }
            guard let policy = try? images.catalog.policy(named: line.product) else { continue }
            let planned: (crop: CropRect, effectiveDPI: Double?)
            do {
                planned = try Imaging.preflight(probe, policy: policy, crop: line.crop)
            } catch {
                throw JobError.permanent("\(field).crop: \(error)")
            }
            if let dpi = planned.effectiveDPI, dpi < policy.policy.resolution.minimum {
                throw JobError.permanent(String(format: "%@: effective resolution %.0f DPI is below the %@ minimum of %.0f DPI (%d×%d source); choose a smaller product or a larger photo",
                                                field, dpi, policy.name, policy.policy.resolution.minimum, probe.uprightWidth, probe.uprightHeight))
            }
        }
    }

    /// HEAD every source: it must exist and be within `imaging.maxBytes`.
    func checkSources(_ order: ShopOrder) async throws {
        for (index, line) in order.lines.enumerated() {
            let head: ObjectMetadata?
            do {
                head = try await jobs.store.head(line.source)
            } catch {
                throw JobFailure.classify(error, while: "checking lines[\(index)].source \(line.source)")
            }
            guard let head else { throw JobError.permanent("lines[\(index)].source: object '\(line.source)' does not exist in the store") }
            if head.size > Int64(imaging.maxBytes) {
                throw JobError.permanent("lines[\(index)].source: '\(line.source)' is \(head.size) bytes, more than imaging.maxBytes (\(imaging.maxBytes))")
            }
        }
    }
}
