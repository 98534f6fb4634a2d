import Foundation
import PressroomQueue

/// A failed vendor call, classified by what it proves about the order.
public struct VendorCallError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// Nothing left this process: the vendor cannot have the order.
        case notSent = "not_sent"
        /// Sent, but no answer (timeout, dropped connection): it may have the order.
        case noAnswer = "no_answer"
        /// 5xx: the vendor is failing; it may or may not have the order.
        case server
        /// 409: the same key is still being handled by the vendor.
        case inFlight = "in_flight"
        /// 429: slow down; `retryAfter` says how long.
        case rateLimited = "rate_limited"
        /// 401 after a refresh (or with a static credential).
        case unauthorized
        /// A definite no: 400, 403, 404, 422, validation outcomes.
        case rejected
        /// The response made no sense (not JSON, missing id).
        case badResponse = "bad_response"
    }

    public let kind: Kind
    public let vendor: String
    public let httpStatus: Int?
    /// Already redacted: no secrets, no personal data.
    public let message: String
    public let retryAfter: Duration?

    public init(_ kind: Kind, vendor: String, httpStatus: Int? = nil, message: String, retryAfter: Duration? = nil) {
        self.kind = kind
        self.vendor = vendor
        self.httpStatus = httpStatus
        self.message = message
        self.retryAfter = retryAfter
    }

    public var description: String {
        "\(vendor): \(message)" + (httpStatus.map { " (HTTP \($0))" } ?? "")
    }

    /// The same failure in a step after something may already exist at the
    /// vendor (a draft to confirm, an earlier unresolved call): a request that
    /// never left proves nothing about the order, so it is no longer `notSent`.
    public var afterPossibleCreate: VendorCallError {
        kind == .notSent ? VendorCallError(.noAnswer, vendor: vendor, httpStatus: httpStatus, message: message, retryAfter: retryAfter) : self
    }

    /// Whether this counts against the vendor's breaker (an outage, not a verdict).
    public var isOutage: Bool {
        switch kind {
        case .notSent, .noAnswer, .server, .badResponse: return true
        case .inFlight, .rateLimited, .unauthorized, .rejected: return false
        }
    }

    /// The intent outcome this failure proves.
    public var outcome: SubmissionResult.Outcome {
        switch kind {
        case .notSent: return .notSent
        case .rejected, .unauthorized: return .rejected
        case .noAnswer, .server, .inFlight, .rateLimited, .badResponse: return .ambiguous
        }
    }

    /// The queue's classification: definite rejections are permanent.
    public var jobError: JobError {
        switch kind {
        case .rejected, .unauthorized:
            return .permanent("vendor \(description)")
        case .rateLimited:
            return .transient("vendor \(description)", retryAfter: retryAfter)
        case .inFlight:
            return .transient("vendor \(description)", retryAfter: retryAfter ?? .seconds(2))
        default:
            return .transient("vendor \(description)", retryAfter: retryAfter)
        }
    }
}
