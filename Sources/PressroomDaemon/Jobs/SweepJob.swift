import Foundation
import Logging
import Metrics
import PressroomQueue
import PressroomStorage

/// `sweep`: deletes uploads older than `retention.drafts` that no order
/// used (or whose last order use is older than `retention.orders`), with
/// their derivatives and masters. Walks each prefix page by page and
/// deletes a page's objects in batches. Two sweeps at once, or one run
/// twice, never delete or count an upload twice: each expired upload is
/// claimed in Redis first, and one with a derive or render in flight is left
/// for the next run.
struct SweepJob: JobHandler {
    static let type = "sweep"

    struct Payload: Decodable {
        /// List what would go, delete nothing.
        var dryRun: Bool?
        /// Stop after this many expired uploads (the next run goes on).
        var limit: Int?
    }

    struct Candidate: Encodable, Sendable {
        var key: String
        var bytes: Int64
        var lastModified: Date?
        var reason: String
        var outputs: Int
    }

    struct Report: Encodable, Sendable {
        var dryRun: Bool
        var prefixes: [String]
        var pages = 0
        var scanned = 0
        var expired = 0
        var keptForOrders = 0
        var skippedBusy = 0
        var skippedClaimed = 0
        var deleted: [String: Int64] = [:]
        var candidates: [Candidate]?
    }

    let eraser: UploadEraser
    let ledger: UploadLedger
    let retention: RetentionSettings
    let prefixes: [String]
    let namespace: String
    let consumer: String

    func handle(_ context: JobContext) async throws -> Data? {
        let payload = try context.job.decodePayload(Payload.self)
        let report = try await sweep(dryRun: payload.dryRun ?? false, limit: payload.limit, jobID: context.job.id, logger: context.logger)
        return try JSONEncoder.sorted.encode(report)
    }

    /// The sweep itself, also run by `pressroom sweep --dry-run`.
    func sweep(dryRun: Bool, limit: Int?, jobID: String, logger: Logger, now: Date = Date()) async throws -> Report {
        var report = Report(dryRun: dryRun, prefixes: prefixes)
        if dryRun { report.candidates = [] }
        let draftCutoff = now.addingTimeInterval(-retention.drafts.duration.seconds)
        let orderCutoffMs = Int64(now.addingTimeInterval(-retention.orders.duration.seconds).timeIntervalSince1970 * 1000)
        var remaining = limit ?? Int.max
        do {
            for prefix in prefixes where remaining > 0 {
                var cursor: String?
                repeat {
                    let page = try await eraser.store.listPage(prefix: prefix, after: cursor, limit: retention.pageSize)
                    cursor = page.next
                    report.pages += 1
                    report.scanned += page.objects.count
                    let old = page.objects.filter { ($0.lastModified ?? now) < draftCutoff }
                    guard !old.isEmpty else { continue }
                    // Order use of the page's old uploads in one round trip.
                    var pipeline = RESPPipeline()
                    for object in old { pipeline.append(["HMGET", ledger.keys.upload(object.key), "ordered_at"]) }
                    let orderedAt = try await ledger.client.send(pipeline).map { $0.array?.first?.int }
                    var expired: [(ObjectMetadata, String)] = []
                    for (object, ordered) in zip(old, orderedAt) {
                        if let ordered, ordered > orderCutoffMs {
                            report.keptForOrders += 1
                            continue
                        }
                        expired.append((object, ordered == nil ? "draft expired" : "order retention expired"))
                    }
                    expired = Array(expired.prefix(remaining))
                    remaining -= expired.count
                    report.expired += expired.count
                    if dryRun {
                        for (object, reason) in expired {
                            let outputs = try await ledger.client.call(["SCARD", ledger.keys.outputs(object.key)]).int ?? 0
                            report.candidates?.append(.init(key: object.key, bytes: object.size, lastModified: object.lastModified, reason: reason, outputs: Int(outputs)))
                        }
                    } else {
                        try await sweepPage(expired, jobID: jobID, report: &report)
                    }
                } while cursor != nil && remaining > 0
            }
        } catch let error as JobError {
            throw error
        } catch {
            throw JobFailure.classify(error, while: "sweeping")
        }
        if !dryRun {
            // Counts of this job id across its attempts (a retried sweep adds to them).
            let progress = try await ledger.client.call(["HGETALL", ledger.keys.progress(jobID)]).fieldPairs
            for (field, value) in progress { report.deleted[field] = Int64(value) ?? 0 }
        }
        logger.info("sweep done", metadata: ["dry_run": "\(dryRun)", "scanned": "\(report.scanned)", "expired": "\(report.expired)",
                                             "objects": "\(report.deleted.filter { $0.key != "bytes" && $0.key != "uploads" && $0.key != "job_records" }.values.reduce(0, +))",
                                             "bytes": "\(report.deleted["bytes"] ?? 0)"])
        return report
    }

    /// Claims and tombstones the page's expired uploads (concurrently, so the
    /// scripts share round trips), deletes all their objects in batches,
    /// then drops their records.
    private func sweepPage(_ expired: [(ObjectMetadata, String)], jobID: String, report: inout Report) async throws {
        let eraser = self.eraser
        let owner = "\(consumer):\(jobID)"
        let preparations = try await withThrowingTaskGroup(of: UploadEraser.Preparation.self) { group in
            var results: [UploadEraser.Preparation] = []
            var next = 0
            func add() {
                let (object, reason) = expired[next]
                next += 1
                group.addTask { try await eraser.prepare(upload: object.key, reason: reason, mode: .sweep(owner: owner), known: object) }
            }
            while next < min(32, expired.count) { add() }
            while let result = try await group.next() {
                results.append(result)
                if next < expired.count { add() }
            }
            return results
        }
        var plans: [UploadEraser.Plan] = []
        for preparation in preparations {
            switch preparation {
            case .ready(let plan): plans.append(plan)
            case .busy: report.skippedBusy += 1
            case .claimed: report.skippedClaimed += 1
            }
        }
        try await eraser.delete(plans)
        let namespace = self.namespace
        try await withThrowingTaskGroup(of: [String: Int64].self) { group in
            for plan in plans {
                group.addTask { try await eraser.complete(plan, jobID: jobID, namespace: namespace) }
            }
            for try await counts in group {
                let objects = counts.filter { ["originals", "derivatives", "masters", "other"].contains($0.key) }.values.reduce(0, +)
                Counter(label: "pressroom_sweep_objects_deleted_total").increment(by: Int(objects))
                Counter(label: "pressroom_sweep_bytes_reclaimed_total").increment(by: Int(counts["bytes"] ?? 0))
            }
        }
    }
}
