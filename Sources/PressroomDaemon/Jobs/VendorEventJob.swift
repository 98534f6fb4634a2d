import Foundation
import PressroomFulfillment
import PressroomQueue

/// `vendor-event`: the shop forwards a vendor's webhook as it came (raw body,
/// headers, query). Verified per vendor config, mapped to a transition,
/// applied idempotently; out-of-order events never move an order backwards.
struct VendorEventJob: JobHandler {
    static let type = "vendor-event"

    struct Payload: Decodable {
        var vendor: String
        /// The raw body as text (UTF-8), exactly as received...
        var body: String?
        /// ...or base64 of the raw bytes, for bodies that are not UTF-8.
        var bodyBase64: String?
        var headers: [String: String]?
        /// The query parameters of the URL the vendor called (`token`).
        var query: [String: String]?
    }

    let jobs: FulfillmentJobs

    func handle(_ context: JobContext) async throws -> Data? {
        let payload = try context.job.decodePayload(Payload.self)
        let body: Data
        if let base64 = payload.bodyBase64 {
            guard let data = Data(base64Encoded: base64) else { throw JobError.permanent("bodyBase64: not base64") }
            body = data
        } else if let text = payload.body {
            body = Data(text.utf8)
        } else {
            throw JobError.permanent("body: the webhook's raw body is required (body or bodyBase64)")
        }
        do {
            let outcome = try await jobs.fulfillment.handleEvent(vendor: payload.vendor, body: body, headers: payload.headers ?? [:],
                                                                 query: payload.query ?? [:], logger: context.logger)
            return try JSONEncoder.fulfillment.encode(outcome)
        } catch {
            throw jobs.capped(JobFailure.classify(error, while: "applying a \(payload.vendor) webhook"))
        }
    }
}
