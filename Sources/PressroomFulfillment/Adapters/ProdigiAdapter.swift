import Foundation
import Logging

/// Prodigi v4 Orders: `idempotencyKey` in the body dedupes a create (an
/// `AlreadyExists` outcome returns the first order), so an unknown outcome is
/// resolved by re-sending the identical body.
public struct ProdigiAdapter: VendorAdapter {
    public let name: String
    public let http: VendorHTTP
    public let configuration: VendorConfiguration
    public var createIsIdempotent: Bool { true }

    static let successOutcomes: Set<String> = ["Created", "CreatedWithIssues", "OnHold", "AlreadyExists"]

    struct Body: Encodable {
        struct Address: Encodable {
            var line1: String; var line2: String?; var postalOrZipCode: String; var countryCode: String
            var townOrCity: String; var stateOrCounty: String?
        }
        struct Recipient: Encodable { var name: String; var email: String?; var phoneNumber: String?; var address: Address }
        struct AssetRef: Encodable { var printArea: String; var url: String; var md5Hash: String? }
        struct Item: Encodable { var merchantReference: String; var sku: String; var copies: Int; var sizing: String; var assets: [AssetRef] }
        var idempotencyKey: String
        var merchantReference: String
        var callbackUrl: String?
        var shippingMethod: String
        var recipient: Recipient
        var items: [Item]
    }

    func body(_ ticket: PrintTicket) -> Data {
        let r = ticket.order.recipient
        let a = r.address
        return VendorHTTP.encode(Body(
            idempotencyKey: ticket.key,
            merchantReference: ticket.order.reference,
            callbackUrl: configuration.callbackURL,
            shippingMethod: ticket.shippingMethod(configuration.shippingMethods, defaults: [.budget: "Budget", .standard: "Standard", .express: "Express"]),
            recipient: .init(name: r.name, email: r.email, phoneNumber: r.phone,
                             address: .init(line1: a.lines.first ?? "", line2: a.lines.count > 1 ? a.lines.dropFirst().joined(separator: ", ") : nil,
                                            postalOrZipCode: a.postalCode, countryCode: a.countryCode, townOrCity: a.city, stateOrCounty: a.state)),
            items: ticket.lines.enumerated().map { index, line in
                .init(merchantReference: "\(ticket.order.orderId)-\(index + 1)", sku: line.item.sku ?? line.product.sku, copies: line.item.quantity,
                      sizing: line.product.sizing ?? "fillPrintArea",
                      assets: [.init(printArea: line.product.printArea ?? "default", url: line.asset.url, md5Hash: line.asset.md5)])
            }))
    }

    public func submit(_ ticket: PrintTicket, resume: Bool, logger: Logger) async throws -> VendorOrder {
        let redact = http.secrets.adding(ticket.personalData)
        let response = try await http.send("POST", "/v4.0/Orders", json: body(ticket), resendable: createIsIdempotent,
                                           redact: redact, logger: logger)
        let json = response.json
        let outcome = JSONPick.string(json?["outcome"]) ?? ""
        if (200..<300).contains(response.status), Self.successOutcomes.contains(outcome) {
            guard let order = JSONPick.object(json?["order"]), let mapped = Self.order(order, how: outcome == "AlreadyExists" ? "already existed" : "created") else {
                throw VendorCallError(.badResponse, vendor: name, httpStatus: response.status, message: "outcome \(outcome) without an order id")
            }
            return mapped
        }
        if response.status == 422, Self.failureCodes(json).contains("AlreadyUsedWithDifferentPayload") {
            logger.error("BUG: Prodigi says our idempotencyKey was used with a different payload; the request body must be deterministic per order",
                         metadata: ["vendor": "\(name)", "key": "\(ticket.key)"])
        }
        throw VendorCallError(.rejected, vendor: name, httpStatus: response.status, message: Self.rejection(json, response.body, redact))
    }

    static func failureCodes(_ json: [String: Any]?) -> [String] {
        (JSONPick.object(json?["failures"]) ?? [:]).values.flatMap { JSONPick.array($0).compactMap { JSONPick.string($0["code"]) } }
    }

    /// `ValidationFailed: recipient.address.postalOrZipCode: Required`; never
    /// `providedValue`, which echoes the customer's data.
    static func rejection(_ json: [String: Any]?, _ body: Data, _ redact: Redactor) -> String {
        let outcome = JSONPick.string(json?["outcome"]) ?? JSONPick.string(json?["statusText"]) ?? VendorHTTP.snippet(body)
        guard let failures = JSONPick.object(json?["failures"]), !failures.isEmpty else { return redact(outcome) }
        let detail = failures.keys.sorted().map { path in
            "\(path): " + JSONPick.array(failures[path]).compactMap { JSONPick.string($0["code"]) }.joined(separator: ", ")
        }.joined(separator: "; ")
        return redact("\(outcome): \(detail)")
    }

    static func order(_ order: [String: Any], how: String) -> VendorOrder? {
        guard let id = JSONPick.string(order["id"]), !id.isEmpty else { return nil }
        let status = JSONPick.object(order["status"])
        let stage = JSONPick.string(status?["stage"])
        let details = JSONPick.object(status?["details"])
        let shipments = JSONPick.array(order["shipments"])
        let shipment = shipments.first.map { s in
            VendorOrder.Shipment(carrier: JSONPick.string(JSONPick.object(s["carrier"])?["name"]),
                                 trackingNumber: JSONPick.string(JSONPick.object(s["tracking"])?["number"]),
                                 trackingURL: JSONPick.string(JSONPick.object(s["tracking"])?["url"]))
        }
        let mapped: VendorOrder.Status
        switch stage {
        case "Cancelled": mapped = .cancelled
        case "Complete": mapped = .shipped
        default:
            let production = JSONPick.string(details?["inProduction"])
            let shipping = JSONPick.string(details?["shipping"])
            if shipping == "Complete" { mapped = .shipped }
            else if production == "InProgress" || production == "Complete" { mapped = .inProduction }
            else { mapped = .accepted }
        }
        return VendorOrder(id: id, status: mapped, shipment: shipment, how: how)
    }

    public func status(vendorOrderID: String, key: String, logger: Logger) async throws -> VendorOrder? {
        try await http.fetchOrder("/v4.0/Orders/" + VendorHTTP.pathComponent(vendorOrderID), logger: logger,
                                  parse: { JSONPick.object($0["order"]).flatMap { Self.order($0, how: "looked up") } }, rejection: Self.rejection)
    }

    /// CloudEvents 1.0 callback: `subject` is the order id, `data.order` the order.
    public func event(from body: Data) throws -> VendorEvent? {
        guard let json = JSONPick.parse(body) else { throw VendorCallError(.badResponse, vendor: name, message: "webhook body is not a JSON object") }
        let data = JSONPick.object(json["data"])
        let order = JSONPick.object(data?["order"]) ?? [:]
        var orderWithID = order
        if orderWithID["id"] == nil { orderWithID["id"] = json["subject"] }
        guard let mapped = Self.order(orderWithID, how: "webhook") else { return nil }
        return VendorEvent(vendorOrderID: mapped.id, key: JSONPick.string(order["idempotencyKey"]), status: mapped.status,
                           shipment: mapped.shipment, kind: JSONPick.string(json["type"]) ?? "prodigi")
    }
}
