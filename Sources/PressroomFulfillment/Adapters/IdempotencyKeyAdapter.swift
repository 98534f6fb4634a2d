import Foundation
import Logging
import PressroomSupport

/// A vendor that speaks the IETF httpapi `Idempotency-Key` header: the same
/// key and body always give the same order, so an unknown outcome is
/// resolved by sending the identical request again.
public struct IdempotencyKeyAdapter: VendorAdapter {
    public let name: String
    public let http: VendorHTTP
    public let configuration: VendorConfiguration
    public var createIsIdempotent: Bool { true }

    /// The generic ticket document (also what the sandbox vendor stores),
    /// written by hand: byte for byte what `JSONEncoder` (`.sortedKeys`,
    /// `.withoutEscapingSlashes`) wrote for it before, since a re-sent create
    /// must be identical to the first (`WireTextTests` checks it).
    func body(_ ticket: PrintTicket) -> Data { Self.body(ticket, configuration: configuration) }

    static func body(_ ticket: PrintTicket, configuration: VendorConfiguration) -> Data {
        var o = JSONText.Object(escapingSlashes: false)
        o.string("callbackUrl", configuration.callbackURL)
        o.raw("items", JSONText.array(ticket.lines.map { line in
            var asset = JSONText.Object(escapingSlashes: false)
            asset.string("md5", line.asset.md5)
            asset.string("sha256", line.asset.sha256)
            asset.string("url", line.asset.url)
            var item = JSONText.Object(escapingSlashes: false)
            item.raw("assets", JSONText.array([asset.json]))
            item.int("quantity", line.item.quantity)
            item.string("sku", line.item.sku ?? line.product.sku)
            return item.json
        }))
        o.raw("recipient", ticket.order.recipient.json(escapingSlashes: false))
        o.string("reference", ticket.order.reference)
        o.string("shipping", ticket.shippingMethod(configuration.shippingMethods, defaults: [:]))
        return Data(o.json.utf8)
    }

    /// A Structured Field string: quotes, with `\` and `"` escaped.
    static func structuredString(_ key: String) -> String {
        "\"" + key.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    public func submit(_ ticket: PrintTicket, resume: Bool, logger: Logger) async throws -> VendorOrder {
        let redact = http.secrets.adding(ticket.personalData)
        let response = try await http.send("POST", "/orders", json: body(ticket),
                                           headers: [("Idempotency-Key", Self.structuredString(ticket.key))], resendable: createIsIdempotent,
                                           redact: redact, logger: logger)
        let json = response.json
        switch response.status {
        case 200..<300:
            guard let id = JSONPick.string(json?["id"]), !id.isEmpty else {
                throw VendorCallError(.badResponse, vendor: name, httpStatus: response.status, message: "create answered without an order id")
            }
            return VendorOrder(id: id, status: Self.status(JSONPick.string(json?["status"])), shipment: Self.shipment(json?["shipment"]),
                               how: resume ? "replayed" : "created")
        case 422:
            logger.error("BUG: vendor says our idempotency key was reused with a different body; the request body must be deterministic per order",
                         metadata: ["vendor": "\(name)", "key": "\(ticket.key)"])
            throw VendorCallError(.rejected, vendor: name, httpStatus: 422, message: "idempotency key reused with a different payload: \(redact(JSONPick.string(json?["error"]) ?? "422"))")
        default:
            throw VendorCallError(.rejected, vendor: name, httpStatus: response.status, message: Self.rejection(json, response.body, redact))
        }
    }

    static func rejection(_ json: [String: Any]?, _ body: Data, _ redact: Redactor) -> String {
        var message = JSONPick.string(json?["error"]) ?? VendorHTTP.snippet(body)
        if let fields = JSONPick.object(json?["fields"]), !fields.isEmpty {
            message += ": " + fields.keys.sorted().map { "\($0): \(JSONPick.string(fields[$0]) ?? "invalid")" }.joined(separator: "; ")
        }
        return redact(message)
    }

    public func status(vendorOrderID: String, key: String, logger: Logger) async throws -> VendorOrder? {
        try await http.fetchOrder("/orders/" + VendorHTTP.pathComponent(vendorOrderID), logger: logger, parse: { json in
            VendorOrder(id: JSONPick.string(json["id"]) ?? vendorOrderID, status: Self.status(JSONPick.string(json["status"])),
                        shipment: Self.shipment(json["shipment"]), how: "looked up")
        }, rejection: Self.rejection)
    }

    /// Webhook: the order as GET returns it, bare or under `order`.
    public func event(from body: Data) throws -> VendorEvent? { try Self.event(from: body, vendor: name) }

    /// The generic webhook shape (the sandbox vendor sends the same).
    static func event(from body: Data, vendor: String) throws -> VendorEvent? {
        guard let json = JSONPick.parse(body) else { throw VendorCallError(.badResponse, vendor: vendor, message: "webhook body is not a JSON object") }
        let order = JSONPick.object(json["order"]) ?? json
        guard let status = JSONPick.string(order["status"]) else { return nil }
        return VendorEvent(vendorOrderID: JSONPick.string(order["id"]), key: JSONPick.string(order["idempotencyKey"]),
                           status: Self.status(status), shipment: Self.shipment(order["shipment"]), kind: JSONPick.string(json["type"]) ?? "status:\(status)")
    }

    static func status(_ text: String?) -> VendorOrder.Status {
        switch text {
        case "in_production": return .inProduction
        case "shipped": return .shipped
        case "cancelled", "canceled": return .cancelled
        case "failed": return .failed
        default: return .accepted
        }
    }

    static func shipment(_ value: Any?) -> VendorOrder.Shipment? {
        guard let s = JSONPick.object(value) else { return nil }
        return VendorOrder.Shipment(carrier: JSONPick.string(s["carrier"]), trackingNumber: JSONPick.string(s["trackingNumber"]),
                                    trackingURL: JSONPick.string(s["trackingUrl"]))
    }
}
