import Foundation
import Metrics
import PressroomQueue

/// `erase`: a privacy request. Deletes an upload (or every upload of a
/// shop's customer) with its derivatives, masters and job-state records,
/// and publishes one audit entry with counts only. Idempotent: erasing
/// again finds nothing and says so. While a derive or render of the upload
/// is still writing, it retries until the writer has finished (the writer
/// deletes its own outputs once it sees the tombstone).
struct EraseJob: JobHandler {
    static let type = "erase"

    struct Payload: Decodable {
        /// Object key of one upload.
        var source: String?
        /// Or a shop and its customer id: every upload derive recorded for them.
        var shop: String?
        var customer: String?
    }

    let eraser: UploadEraser
    let ledger: UploadLedger
    let imaging: ImagingSettings
    let namespace: String
    let auditMaxLength: Int

    func handle(_ context: JobContext) async throws -> Data? {
        let payload = try context.job.decodePayload(Payload.self)
        let uploads: [String]
        let scope: String
        if let source = payload.source {
            guard payload.customer == nil else { throw JobError.permanent("payload: name either source or shop and customer, not both") }
            uploads = [try imaging.checkSource(source)]
            scope = "upload"
        } else if let shop = payload.shop, let customer = payload.customer {
            guard QuotaGate.isValidShop(shop), QuotaGate.isValidShop(customer) else {
                throw JobError.permanent("payload.shop and payload.customer must be 1-64 of A-Z a-z 0-9 . _ -")
            }
            uploads = try await ledger.client.call(["SMEMBERS", ledger.keys.customer(shop: shop, customer: customer)]).array?
                .compactMap(\.string).sorted() ?? []
            scope = "customer"
        } else {
            throw JobError.permanent("payload needs 'source', or 'shop' and 'customer'")
        }
        var waiting = 0
        do {
            for upload in uploads {
                guard case .ready(let plan) = try await eraser.prepare(upload: upload, reason: "erasure request", mode: .erase) else { continue }
                try await eraser.delete([plan])
                if plan.writers > 0 {
                    // Deleted what exists now; the records stay until the writers are done.
                    waiting += plan.writers
                    continue
                }
                try await eraser.complete(plan, jobID: context.job.id, namespace: namespace)
            }
        } catch let error as JobError {
            throw error
        } catch {
            throw JobFailure.classify(error, while: "erasing")
        }
        if waiting > 0 {
            throw JobError.transient("\(waiting) write(s) of the upload still in flight; erasing again once they end", retryAfter: .seconds(2))
        }
        let reply: RedisValue
        do {
            reply = try await LifecycleScripts.audit.run(
                on: ledger.client, keys: [ledger.keys.audit, ledger.keys.auditDone(context.job.id), ledger.keys.progress(context.job.id)],
                args: [String(auditMaxLength), context.job.id, String(UploadLedger.nowMs()), "scope", scope, "reason", "request"])
        } catch {
            throw JobError.transient("publishing the erasure audit entry: \(error)")
        }
        var counts: [String: Int64] = ["uploads": 0, "originals": 0, "derivatives": 0, "masters": 0, "other": 0, "job_records": 0, "bytes": 0]
        for (field, value) in reply.fieldPairs { counts[field] = Int64(value) ?? 0 }
        Counter(label: "pressroom_erasures_total", dimensions: [("scope", scope)]).increment()
        context.logger.notice("erased", metadata: counts.mapValues { .stringConvertible($0) }.merging(["scope": "\(scope)"]) { a, _ in a })
        var result: [String: Any] = counts
        result["scope"] = scope
        result["already_erased"] = counts["originals"] == 0 && counts["derivatives"] == 0 && counts["masters"] == 0
        return try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
    }
}
