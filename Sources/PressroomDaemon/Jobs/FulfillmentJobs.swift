import Foundation
import PressroomFulfillment
import PressroomQueue
import PressroomStorage

/// What the fulfilment job handlers share, built once per process.
public struct FulfillmentJobs: Sendable {
    public static let queue = "fulfill"
    public static let types: Set<String> = [OrderJob.type, FulfillJob.type, VendorEventJob.type, ReconcileJob.type]

    public let fulfillment: Fulfillment
    public let store: any ObjectStore
    /// Product policy names from the policy catalogue.
    public let products: Set<String>
    public let settings: FulfillmentSettings

    /// Caps a vendor's Retry-After at `fulfillment.maxRetryAfter`.
    func capped(_ error: Error) -> Error {
        guard let error = error as? JobError, let wait = error.retryAfter, wait > settings.maxRetryAfter.duration else { return error }
        return JobError(error.errorClass, error.message, retryAfter: settings.maxRetryAfter.duration)
    }
}

extension JSONEncoder {
    static let fulfillment: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()
}
