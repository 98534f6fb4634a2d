import Foundation
import PressroomFulfillment
import PressroomQueue

/// `reconcile`: looks up orders stuck in submitting/accepted/in_production at
/// their vendors and applies what it finds, dangling intents included; and
/// fails orders left in `rendering` by a line render dead-lettered without
/// its order being told (a crash in between; docs/orders.md).
/// `systemd/pressroom-reconcile.timer` enqueues one every few minutes.
struct ReconcileJob: JobHandler {
    static let type = "reconcile"

    struct Payload: Decodable {
        /// Overrides `fulfillment.reconcile.olderThan` (e.g. "5m").
        var olderThan: String?
        var limit: Int?
    }

    let jobs: FulfillmentJobs
    /// The order workflow, when this process can reach order records.
    var workflow: OrderWorkflow?

    func handle(_ context: JobContext) async throws -> Data? {
        let payload = try context.job.decodePayload(Payload.self)
        var age = jobs.settings.reconcile.olderThan.duration
        if let text = payload.olderThan {
            guard let parsed = DurationText(parsing: text) else { throw JobError.permanent("olderThan: '\(text)' is not a duration (e.g. 15m)") }
            age = parsed.duration
        }
        let limit = payload.limit ?? jobs.settings.reconcile.limit
        guard limit >= 1 else { throw JobError.permanent("limit: must be at least 1") }
        do {
            var report = try await jobs.fulfillment.reconcile(olderThan: age, limit: limit, logger: context.logger)
            for failed in try await workflow?.failDeadLetteredRenders(olderThan: age, limit: limit) ?? [] {
                report.checked += 1
                report.advanced += 1
                report.orders.append(.init(orderId: failed.order, from: .rendering, to: .failed, note: "line \(failed.line) dead-lettered: \(failed.reason)"))
                context.logger.notice("reconcile: failed an order whose line render was dead-lettered", metadata: [
                    "order_id": "\(failed.order)", "line": "\(failed.line)"])
            }
            return try JSONEncoder.fulfillment.encode(report)
        } catch {
            throw JobFailure.classify(error, while: "reconciling orders")
        }
    }
}
