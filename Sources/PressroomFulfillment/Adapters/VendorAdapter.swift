import Foundation
import Logging

/// One vendor's API. Each adapter owns its vendor's duplicate protection:
/// ``submit(_:resume:logger:)`` must never leave two vendor orders for one
/// ticket, however often it is called with the same ticket.
///
/// Issue 10's `sandbox` adapter (tickets written to a folder) implements the
/// same protocol: `submit` writes `<key>.json` create-only, `status` reads it.
public protocol VendorAdapter: Sendable {
    /// The vendor's name in vendors.yaml.
    var name: String { get }
    /// Whether re-sending a create with the same key returns the first order
    /// (the vendor dedupes), so resolving an unknown outcome is a re-send.
    var createIsIdempotent: Bool { get }

    /// Creates the order at the vendor, or finds the one an earlier call made.
    /// `resume` says an earlier call's outcome is unknown: the adapter looks
    /// the order up (or re-sends the same key) before creating anything.
    func submit(_ ticket: PrintTicket, resume: Bool, logger: Logger) async throws -> VendorOrder

    /// The order's state at the vendor; `nil` when the vendor has no such order.
    func status(vendorOrderID: String, key: String, logger: Logger) async throws -> VendorOrder?

    /// Maps a verified webhook body to a status change; `nil` for events that
    /// change nothing we track.
    func event(from body: Data) throws -> VendorEvent?
}

/// Helpers adapters share for picking values out of JSON.
enum JSONPick {
    static func string(_ value: Any?) -> String? {
        switch value {
        case let s as String: return s
        case let n as NSNumber: return n.stringValue
        default: return nil
        }
    }

    static func object(_ value: Any?) -> [String: Any]? { value as? [String: Any] }
    static func array(_ value: Any?) -> [[String: Any]] { value as? [[String: Any]] ?? [] }

    static func parse(_ data: Data) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }
}

extension PrintTicket {
    /// Values to scrub from anything the vendor says about this ticket.
    var personalData: [String] { order.recipient.personalValues }

    /// Our shipping method in the vendor's words.
    func shippingMethod(_ configured: [String: String]?, defaults: [FulfillmentOrder.Shipping: String]) -> String {
        configured?[order.shipping.rawValue] ?? defaults[order.shipping] ?? order.shipping.rawValue
    }
}
