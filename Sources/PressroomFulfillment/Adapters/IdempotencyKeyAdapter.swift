import Foundation
import Logging

/// A vendor that speaks the IETF httpapi `Idempotency-Key` header: the same
/// key and body always give the same order, so an unknown outcome is
/// resolved by sending the identical request again.
public struct IdempotencyKeyAdapter: VendorAdapter {
    public let name: String
    public let http: VendorHTTP
    public let configuration: VendorConfiguration
    public var createIsIdempotent: Bool { true }

    struct Body: Encodable {
        struct Address: Encodable { var lines: [String]; var city: String; var state: String?; var postalCode: String; var countryCode: String }
        struct Recipient: Encodable { var name: String; var email: String?; var phone: String?; var address: Address }
        struct AssetRef: Encodable { var url: String; var sha256: String?; var md5: String? }
        struct Item: Encodable { var sku: String; var quantity: Int; var assets: [AssetRef] }
        var reference: String
        var shipping: String
        var recipient: Recipient
        var items: [Item]
        var callbackUrl: String?
    }

    func body(_ ticket: PrintTicket) -> Data { Self.body(ticket, configuration: configuration) }

    /// The generic ticket document (also what the sandbox vendor stores).
    static func body(_ ticket: PrintTicket, configuration: VendorConfiguration) -> Data {
        let r = ticket.order.recipient
        return VendorHTTP.encode(Body(
            reference: ticket.order.reference,
            shipping: ticket.shippingMethod(configuration.shippingMethods, defaults: [:]),
            recipient: .init(name: r.name, email: r.email, phone: r.phone,
                             address: .init(lines: r.address.lines, city: r.address.city, state: r.address.state,
                                            postalCode: r.address.postalCode, countryCode: r.address.countryCode)),
            items: ticket.lines.map { .init(sku: $0.item.sku ?? $0.product.sku, quantity: $0.item.quantity,
                                            assets: [.init(url: $0.asset.url, sha256: $0.asset.sha256, md5: $0.asset.md5)]) },
            callbackUrl: configuration.callbackURL))
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
