import Foundation
import PressroomQueue

/// Applies the shop's jobs-per-minute quota to a job type that reads no
/// source (image jobs charge their quota themselves, with the source's size).
struct QuotaGated: JobHandler {
    let handler: any JobHandler
    let quota: QuotaGate?

    func handle(_ context: JobContext) async throws -> Data? {
        if let quota {
            try await quota.admit(context.job, shop: try QuotaGate.shop(in: context.job.payload), bytes: 0)
        }
        return try await handler.handle(context)
    }
}
