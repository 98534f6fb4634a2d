import Foundation
import Logging

/// Gelato Order API v4 does no dedupe at all: a second create is a second
/// printed order. So the adapter searches by `orderReferenceId` (our key)
/// before every create, creates a `draft`, then confirms it. A crash or
/// timeout anywhere leaves at most one draft, which the next attempt finds
/// and confirms. (Searching first also covers an intent lost with Redis.)
public struct GelatoAdapter: VendorAdapter {
    public let name: String
    public let http: VendorHTTP
    public let configuration: VendorConfiguration
    public var createIsIdempotent: Bool { false }

    struct Body: Encodable {
        struct File: Encodable { var type: String; var url: String }
        struct Item: Encodable { var itemReferenceId: String; var productUid: String; var quantity: Int; var files: [File] }
        struct Address: Encodable {
            var firstName: String; var lastName: String; var addressLine1: String; var addressLine2: String?
            var city: String; var postCode: String; var state: String?; var country: String; var email: String?; var phone: String?
        }
        var orderType: String
        var orderReferenceId: String
        var customerReferenceId: String
        var currency: String
        var items: [Item]
        var shipmentMethodUid: String
        var shippingAddress: Address
    }

    func body(_ ticket: PrintTicket) -> Data {
        let r = ticket.order.recipient
        let a = r.address
        let names = r.name.split(separator: " ", maxSplits: 1).map(String.init)
        return VendorHTTP.encode(Body(
            orderType: "draft",
            orderReferenceId: ticket.key,
            customerReferenceId: ticket.order.reference,
            currency: configuration.currency ?? "EUR",
            items: ticket.lines.enumerated().map { index, line in
                .init(itemReferenceId: "\(ticket.order.orderId)-\(index + 1)", productUid: line.item.sku ?? line.product.sku,
                      quantity: line.item.quantity, files: [.init(type: line.product.printArea ?? "default", url: line.asset.url)])
            },
            shipmentMethodUid: ticket.shippingMethod(configuration.shippingMethods, defaults: [.budget: "normal", .standard: "standard", .express: "express"]),
            shippingAddress: .init(firstName: names.first ?? r.name, lastName: names.count > 1 ? names[1] : "", addressLine1: a.lines.first ?? "",
                                   addressLine2: a.lines.count > 1 ? a.lines.dropFirst().joined(separator: ", ") : nil,
                                   city: a.city, postCode: a.postalCode, state: a.state, country: a.countryCode, email: r.email, phone: r.phone)))
    }

    public func submit(_ ticket: PrintTicket, resume: Bool, logger: Logger) async throws -> VendorOrder {
        let redact = http.secrets.adding(ticket.personalData)
        let found = try await search(ticket.key, logger: logger)
        if found.count > 1 {
            logger.warning("vendor holds several orders with our reference; using the first live one", metadata: ["vendor": "\(name)", "count": "\(found.count)"])
        }
        if let existing = found.first(where: { $0.status != .cancelled }) ?? found.first {
            if existing.status == .draft { return try await confirm(existing.id, redact: redact, logger: logger, how: "draft confirmed") }
            return VendorOrder(id: existing.id, status: existing.status, shipment: existing.shipment, how: "adopted")
        }
        let response = try await http.send("POST", "/v4/orders", json: body(ticket), redact: redact, logger: logger)
        guard (200..<300).contains(response.status) else {
            throw VendorCallError(.rejected, vendor: name, httpStatus: response.status, message: Self.rejection(response.json, response.body, redact))
        }
        guard let id = JSONPick.string(response.json?["id"]), !id.isEmpty else {
            throw VendorCallError(.badResponse, vendor: name, httpStatus: response.status, message: "draft created without an order id")
        }
        return try await confirm(id, redact: redact, logger: logger, how: "created")
    }

    func confirm(_ id: String, redact: Redactor, logger: Logger, how: String) async throws -> VendorOrder {
        let response: VendorHTTP.Response
        do {
            response = try await http.send("PATCH", "/v4/orders/" + VendorHTTP.pathComponent(id), json: Data(#"{"orderType":"order"}"#.utf8),
                                           redact: redact, logger: logger)
        } catch let error as VendorCallError {
            throw error.afterPossibleCreate  // the draft exists: the order must stay with this vendor
        }
        guard (200..<300).contains(response.status) else {
            throw VendorCallError(.rejected, vendor: name, httpStatus: response.status, message: "confirming draft \(id): " + Self.rejection(response.json, response.body, redact))
        }
        let order = response.json.flatMap { Self.order($0, how: how) } ?? VendorOrder(id: id, status: .accepted, how: how)
        return order.status == .draft ? VendorOrder(id: order.id, status: .accepted, shipment: order.shipment, how: how) : order
    }

    func search(_ reference: String, logger: Logger) async throws -> [VendorOrder] {
        let body = VendorHTTP.encode(["orderReferenceIds": [reference]])
        let response = try await http.send("POST", "/v4/orders:search", json: body, redact: http.secrets, logger: logger)
        guard (200..<300).contains(response.status) else {
            throw VendorCallError(.rejected, vendor: name, httpStatus: response.status, message: "search: " + Self.rejection(response.json, response.body, http.secrets))
        }
        return JSONPick.array(response.json?["orders"]).filter { JSONPick.string($0["orderReferenceId"]) == reference }.compactMap { Self.order($0, how: "found") }
    }

    static func rejection(_ json: [String: Any]?, _ body: Data, _ redact: Redactor) -> String {
        let parts = [JSONPick.string(json?["code"]), JSONPick.string(json?["message"])].compactMap { $0 }
        return redact(parts.isEmpty ? VendorHTTP.snippet(body) : parts.joined(separator: ": "))
    }

    static func order(_ json: [String: Any], how: String) -> VendorOrder? {
        guard let id = JSONPick.string(json["id"]) ?? JSONPick.string(json["orderId"]), !id.isEmpty else { return nil }
        let type = JSONPick.string(json["orderType"])
        var status = self.status(JSONPick.string(json["fulfillmentStatus"]))
        if type == "draft" { status = .draft }
        var shipment: VendorOrder.Shipment?
        if let s = JSONPick.object(json["shipment"]) {
            let package = JSONPick.array(s["packages"]).first ?? s
            shipment = .init(carrier: JSONPick.string(s["shipmentMethodName"]) ?? JSONPick.string(s["carrier"]),
                             trackingNumber: JSONPick.string(package["trackingCode"]) ?? JSONPick.string(package["trackingNumber"]),
                             trackingURL: JSONPick.string(package["trackingUrl"]))
        } else if let f = JSONPick.array(json["items"]).flatMap({ JSONPick.array($0["fulfillments"]) }).first {
            shipment = .init(carrier: JSONPick.string(f["shipmentMethodName"]), trackingNumber: JSONPick.string(f["trackingCode"]),
                             trackingURL: JSONPick.string(f["trackingUrl"]))
        }
        return VendorOrder(id: id, status: status, shipment: shipment, how: how)
    }

    static func status(_ text: String?) -> VendorOrder.Status {
        switch text {
        case "draft": return .draft
        case "in_production", "printed": return .inProduction
        case "shipped", "in_transit", "delivered": return .shipped
        case "canceled", "cancelled": return .cancelled
        case "failed": return .failed
        default: return .accepted  // created, uploading, passed, pending_approval…
        }
    }

    public func status(vendorOrderID: String, key: String, logger: Logger) async throws -> VendorOrder? {
        try await http.fetchOrder("/v4/orders/" + VendorHTTP.pathComponent(vendorOrderID), logger: logger,
                                  parse: { Self.order($0, how: "looked up") }, rejection: Self.rejection)
    }

    /// `{event: "order_status_updated", orderId, orderReferenceId, fulfillmentStatus, items[…]}`.
    public func event(from body: Data) throws -> VendorEvent? {
        guard let json = JSONPick.parse(body) else { throw VendorCallError(.badResponse, vendor: name, message: "webhook body is not a JSON object") }
        guard JSONPick.string(json["event"]) == "order_status_updated", let order = Self.order(json, how: "webhook") else { return nil }
        return VendorEvent(vendorOrderID: order.id, key: JSONPick.string(json["orderReferenceId"]), status: order.status == .draft ? .accepted : order.status,
                           shipment: order.shipment, kind: "order_status_updated:\(JSONPick.string(json["fulfillmentStatus"]) ?? "")")
    }
}
