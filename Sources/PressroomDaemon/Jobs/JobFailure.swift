import PressroomFulfillment
import PressroomImaging
import PressroomQueue
import Foundation
import PressroomStorage

/// Turns the libraries' own errors into the queue's transient/permanent
/// classification: the one place that knows all of them.
enum JobFailure {
    static func permanent(_ message: String) -> JobError { .permanent(message) }

    static func classify(_ error: Error, while doing: String) -> Error {
        switch error {
        case let error as JobError:
            return error
        case let error as ImagingError:
            return error.isPermanent ? JobError.permanent("\(doing): \(error)") : JobError.transient("\(doing): \(error)")
        case let error as ObjectStoreError:
            if error.isTransient {
                return JobError.transient("\(doing): \(error)", retryAfter: error.retryAfter.map { .milliseconds(Int64($0 * 1000)) })
            }
            return JobError.permanent("\(doing): \(error)")
        case let error as VendorCallError:
            return error.jobError
        case is CancellationError:
            return error
        default:
            return JobError.transient("\(doing): \(error)")
        }
    }
}

extension ObjectStore {
    /// An upload named by a job: a missing one is permanent (retrying will not
    /// make it appear), other failures are classified as the store says.
    func readSource(_ key: String) async throws -> Data {
        do {
            return try await get(key)
        } catch let error as ObjectStoreError where error.code == .notFound {
            throw JobError.permanent("source object '\(key)' does not exist")
        } catch {
            throw JobFailure.classify(error, while: "reading \(key)")
        }
    }
}
