import Foundation
import Logging

/// Printful v1 orders: `external_id` is unique per store, so a second create
/// fails with `OR-13 EXTERNAL_ID_IN_USE`. After an unknown outcome the
/// adapter looks the order up by `@external_id` before creating, and adopts
/// the order an `OR-13` points at.
public struct PrintfulAdapter: VendorAdapter {
    public let name: String
    public let http: VendorHTTP
    public let configuration: VendorConfiguration
    public var createIsIdempotent: Bool { false }

    struct Body: Encodable {
        struct Recipient: Encodable {
            var name: String; var address1: String; var address2: String?; var city: String
            var state_code: String?; var country_code: String; var zip: String; var email: String?; var phone: String?
        }
        struct File: Encodable { var url: String; var type: String }
        struct Item: Encodable { var variant_id: Int?; var external_variant_id: String?; var quantity: Int; var files: [File] }
        var external_id: String
        var shipping: String
        var recipient: Recipient
        var items: [Item]
    }

    func body(_ ticket: PrintTicket) -> Data {
        let r = ticket.order.recipient
        let a = r.address
        return VendorHTTP.encode(Body(
            external_id: ticket.key,
            shipping: ticket.shippingMethod(configuration.shippingMethods, defaults: [.budget: "STANDARD", .standard: "STANDARD", .express: "EXPRESS"]),
            recipient: .init(name: r.name, address1: a.lines.first ?? "", address2: a.lines.count > 1 ? a.lines.dropFirst().joined(separator: ", ") : nil,
                             city: a.city, state_code: a.state, country_code: a.countryCode, zip: a.postalCode, email: r.email, phone: r.phone),
            items: ticket.lines.map { line in
                let sku = line.item.sku ?? line.product.sku
                let numeric = Int(sku)
                return .init(variant_id: numeric, external_variant_id: numeric == nil ? sku : nil, quantity: line.item.quantity,
                             files: [.init(url: line.asset.url, type: line.product.printArea ?? "default")])
            }))
    }

    public func submit(_ ticket: PrintTicket, resume: Bool, logger: Logger) async throws -> VendorOrder {
        if resume, let existing = try await lookup(ticket.key, logger: logger) {
            logger.info("adopting the order an earlier attempt created", metadata: ["vendor": "\(name)", "vendor_order_id": "\(existing.id)"])
            return existing
        }
        let redact = http.secrets.adding(ticket.personalData)
        let response = try await http.send("POST", "/orders?confirm=1", json: body(ticket), redact: redact, logger: logger)
        let json = response.json
        if (200..<300).contains(response.status), let result = JSONPick.object(json?["result"]), let order = Self.order(result, how: "created") {
            return order
        }
        let error = JSONPick.object(json?["error"])
        if JSONPick.string(error?["reason"]) == "OR-13" || JSONPick.string(error?["message"]) == "EXTERNAL_ID_IN_USE" {
            // Already created (by an attempt whose answer we lost): adopt it.
            let found: VendorOrder?
            do {
                found = try await lookup(ticket.key, logger: logger)
            } catch let error as VendorCallError {
                throw error.afterPossibleCreate  // OR-13 proved the order exists
            }
            if let existing = found {
                logger.info("external_id already in use; adopting that order", metadata: ["vendor": "\(name)", "vendor_order_id": "\(existing.id)"])
                return VendorOrder(id: existing.id, status: existing.status, shipment: existing.shipment, how: "adopted")
            }
            throw VendorCallError(.server, vendor: name, httpStatus: response.status, message: "external_id \(ticket.key) is in use but the order cannot be looked up yet")
        }
        throw VendorCallError(.rejected, vendor: name, httpStatus: response.status, message: Self.rejection(json, response.body, redact))
    }

    /// The order with our external id, or `nil` on 404.
    func lookup(_ externalID: String, logger: Logger) async throws -> VendorOrder? {
        try await http.fetchOrder("/orders/@" + VendorHTTP.pathComponent(externalID), logger: logger,
                                  parse: { JSONPick.object($0["result"]).flatMap { Self.order($0, how: "adopted") } }, rejection: Self.rejection)
    }

    static func rejection(_ json: [String: Any]?, _ body: Data, _ redact: Redactor) -> String {
        let error = JSONPick.object(json?["error"])
        let parts = [JSONPick.string(error?["reason"]), JSONPick.string(error?["message"]), JSONPick.string(json?["result"])].compactMap { $0 }
        return redact(parts.isEmpty ? VendorHTTP.snippet(body) : parts.joined(separator: ": "))
    }

    static func order(_ result: [String: Any], how: String) -> VendorOrder? {
        guard let id = JSONPick.string(result["id"]), !id.isEmpty else { return nil }
        let shipment = JSONPick.array(result["shipments"]).first.map {
            VendorOrder.Shipment(carrier: JSONPick.string($0["carrier"]), trackingNumber: JSONPick.string($0["tracking_number"]),
                                 trackingURL: JSONPick.string($0["tracking_url"]))
        }
        return VendorOrder(id: id, status: status(JSONPick.string(result["status"])), shipment: shipment, how: how)
    }

    static func status(_ text: String?) -> VendorOrder.Status {
        switch text {
        case "inprocess", "partial": return .inProduction
        case "fulfilled": return .shipped
        case "canceled", "cancelled": return .cancelled
        case "failed": return .failed
        default: return .accepted  // draft, pending, onhold, archived
        }
    }

    public func status(vendorOrderID: String, key: String, logger: Logger) async throws -> VendorOrder? {
        try await http.fetchOrder("/orders/" + VendorHTTP.pathComponent(vendorOrderID), logger: logger,
                                  parse: { JSONPick.object($0["result"]).flatMap { Self.order($0, how: "looked up") } }, rejection: Self.rejection)
    }

    /// `{type, data: {order: {...}, shipment: {...}}}` (v1 and v2 shapes).
    public func event(from body: Data) throws -> VendorEvent? {
        guard let json = JSONPick.parse(body) else { throw VendorCallError(.badResponse, vendor: name, message: "webhook body is not a JSON object") }
        let type = JSONPick.string(json["type"]) ?? ""
        let data = JSONPick.object(json["data"]) ?? [:]
        let order = JSONPick.object(data["order"]) ?? [:]
        let shipmentJSON = JSONPick.object(data["shipment"])
        let shipment = shipmentJSON.map {
            VendorOrder.Shipment(carrier: JSONPick.string($0["carrier"]), trackingNumber: JSONPick.string($0["tracking_number"]),
                                 trackingURL: JSONPick.string($0["tracking_url"]))
        }
        let status: VendorOrder.Status
        switch type {
        case "package_shipped", "shipment_sent": status = .shipped
        case "order_canceled": status = .cancelled
        case "order_failed": status = .failed
        case "order_put_hold", "order_remove_hold", "order_created": status = .accepted
        case "order_updated": status = Self.status(JSONPick.string(order["status"]))
        default: return nil
        }
        return VendorEvent(vendorOrderID: JSONPick.string(order["id"]), key: JSONPick.string(order["external_id"]), status: status,
                           shipment: shipment, kind: type)
    }
}
