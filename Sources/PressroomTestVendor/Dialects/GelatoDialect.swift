import Foundation

/// Gelato Order API v4. Gelato does no dedupe at all: every create is a new
/// order, so a client must create a `draft`, confirm it with `PATCH`, and
/// search by `orderReferenceId` after an ambiguous failure. Routes:
/// `POST /gelato/v4/orders`, `POST /gelato/v4/orders:search`,
/// `GET|PATCH /gelato/v4/orders/{id}`.
enum GelatoDialect {
    static let style = ErrorStyle.dialect(.gelato)

    static func route(method: String, parts: [String]) -> RouteMatch {
        switch parts {
        case ["v4", "orders"]:
            return method == "POST" ? .handler(.create, create) : .methodNotAllowed(allowed: ["POST"])
        case ["v4", "orders:search"]:
            return method == "POST" ? .handler(.search, search) : .methodNotAllowed(allowed: ["POST"])
        case let path where path.count == 3 && path[0] == "v4" && path[1] == "orders":
            switch method {
            case "GET": return .handler(.lookup, { await lookup($0, id: path[2]) })
            case "PATCH": return .handler(.confirm, { await patch($0, id: path[2]) })
            default: return .methodNotAllowed(allowed: ["GET", "PATCH"])
            }
        default:
            return .notFound
        }
    }

    static func create(_ call: APICall) async -> Reply {
        let body: JSONValue
        switch call.jsonBody() {
        case .success(let value): body = value
        case .failure(let refusal): await call.pause(); return refusal.reply
        }
        return await CreateFlow.run(validate(body), call)
    }

    static func validate(_ body: JSONValue) -> CreatePlan {
        var check = BodyValidator(rejectsUnknownFields: false)
        let top = body.objectValue ?? [:]
        let orderType = check.string(top, "orderType", at: "", required: false, oneOf: ["draft", "order"]) ?? "order"
        let reference = check.string(top, "orderReferenceId", at: "", maxLength: 128)
        check.string(top, "customerReferenceId", at: "", maxLength: 128)
        check.string(top, "currency", at: "", pattern: "^[A-Z]{3}$")
        check.string(top, "shipmentMethodUid", at: "", required: false)
        if let address = check.object(top["shippingAddress"], at: "shippingAddress") {
            for field in ["firstName", "lastName", "addressLine1", "city", "postCode"] {
                check.string(address, field, at: "shippingAddress")
            }
            check.string(address, "country", at: "shippingAddress", pattern: "^[A-Z]{2}$")
            check.string(address, "email", at: "shippingAddress", pattern: "^[^@\\s]+@[^@\\s]+$")
            for field in ["addressLine2", "state", "phone", "companyName"] {
                check.string(address, field, at: "shippingAddress", required: false)
            }
        }
        var assets: [AssetFetcher.Request] = []
        let items = check.array(top, "items", at: "") ?? []
        for (i, item) in items.enumerated() {
            let itemPath = "items[\(i)]"
            guard let object = check.object(item, at: itemPath) else { continue }
            check.string(object, "itemReferenceId", at: itemPath)
            check.string(object, "productUid", at: itemPath)
            check.integer(object, "quantity", at: itemPath)
            for (j, file) in (check.array(object, "files", at: itemPath) ?? []).enumerated() {
                let filePath = "\(itemPath).files[\(j)]"
                guard let fields = check.object(file, at: filePath) else { continue }
                check.string(fields, "type", at: filePath, required: false)
                if let url = check.url(fields, "url", at: filePath) {
                    assets.append(AssetFetcher.Request(url: url, urlPath: "\(filePath).url", checksums: []))
                }
            }
        }
        return CreatePlan(
            dialect: .gelato, key: nil, statsKey: reference, reference: reference, body: body, problems: check.problems,
            assets: assets, initialStatus: orderType == "draft" ? .draft : .received, itemCount: items.count,
            render: { order in .json(200, orderBody(order)) },
            replay: { _, _, first in Reply(first) })
    }

    static func fulfillmentStatus(_ status: OrderStatus) -> String {
        switch status {
        case .draft: "draft"
        case .received: "created"
        case .inProduction: "in_production"
        case .shipped: "shipped"
        case .cancelled: "canceled"
        }
    }

    static func summary(_ order: VendorOrder) -> [String: JSONValue] {
        let body = order.body.objectValue ?? [:]
        return [
            "id": .string(order.id),
            "orderType": .string(order.status == .draft ? "draft" : "order"),
            "orderReferenceId": .optional(order.reference),
            "customerReferenceId": body["customerReferenceId"] ?? .null,
            "fulfillmentStatus": .string(fulfillmentStatus(order.status)),
            "financialStatus": .string(order.status == .draft ? "draft" : "pending"),
            "currency": body["currency"] ?? .null,
            "createdAt": .string(Timestamp.iso(order.createdAt)),
            "updatedAt": .string(Timestamp.iso(order.updatedAt)),
        ]
    }

    static func orderBody(_ order: VendorOrder) -> JSONValue {
        let body = order.body.objectValue ?? [:]
        var object = summary(order)
        object["channel"] = "api"
        object["shipmentMethodUid"] = body["shipmentMethodUid"] ?? .null
        object["shippingAddress"] = body["shippingAddress"] ?? .null
        object["items"] = .array((body["items"]?.arrayValue ?? []).enumerated().map { index, item -> JSONValue in
            let fields = item.objectValue ?? [:]
            return [
                "id": .string(order.itemIDs.indices.contains(index) ? order.itemIDs[index] : ""),
                "itemReferenceId": fields["itemReferenceId"] ?? .null, "productUid": fields["productUid"] ?? .null,
                "quantity": fields["quantity"] ?? .null, "fulfillmentStatus": .string(fulfillmentStatus(order.status)),
                "files": .array((fields["files"]?.arrayValue ?? []).map { ["type": $0["type"] ?? "default", "url": $0["url"] ?? .null] }),
            ]
        })
        if let shipment = order.shipment, order.status == .shipped {
            object["shipment"] = [
                "id": .string(order.id), "shipmentMethodName": .string(shipment.carrier),
                "shipmentMethodUid": body["shipmentMethodUid"] ?? .null, "packageCount": 1,
                "packages": [["id": .string(order.id), "trackingCode": .string(shipment.trackingNumber),
                              "trackingUrl": .optional(shipment.trackingUrl)]],
            ]
        } else {
            object["shipment"] = .null
        }
        return .object(object)
    }

    static func lookup(_ call: APICall, id: String) async -> Reply {
        await call.pause()
        guard let order = await call.store.order(id, dialect: .gelato, account: call.account) else { return style.orderNotFound() }
        return .json(200, orderBody(order))
    }

    /// `{"orderType":"order"}` confirms a draft; an order already confirmed is returned unchanged.
    static func patch(_ call: APICall, id: String) async -> Reply {
        let body: JSONValue
        switch call.jsonBody() {
        case .success(let value): body = value
        case .failure(let refusal): await call.pause(); return refusal.reply
        }
        await call.pause()
        let fields = body.objectValue ?? [:]
        if let other = fields.keys.sorted().first(where: { $0 != "orderType" }) {
            return style.validationFailed([FieldProblem(other, .notAllowed, "only orderType can be changed here")])
        }
        guard fields["orderType"]?.stringValue == "order" else {
            return style.validationFailed([FieldProblem("orderType", .invalid, "must be \"order\" to confirm a draft")])
        }
        guard let order = await call.store.order(id, dialect: .gelato, account: call.account) else { return style.orderNotFound() }
        if order.status == .cancelled {
            return style.validationFailed([FieldProblem("orderType", .invalid, "the order is canceled")])
        }
        guard order.status == .draft else { return .json(200, orderBody(order)) }
        let confirmed = await call.store.update(order.id, account: call.account) { $0.status = .received } ?? order
        return .json(200, orderBody(confirmed))
    }

    /// `{"orderReferenceIds":[…]}` (all orders when absent), oldest first, at most `limit` (default 50).
    static func search(_ call: APICall) async -> Reply {
        let body: JSONValue
        switch call.jsonBody() {
        case .success(let value): body = value
        case .failure(let refusal): await call.pause(); return refusal.reply
        }
        await call.pause()
        var wanted: Set<String>?
        if let ids = body["orderReferenceIds"], ids != .null {
            guard let list = ids.arrayValue, list.allSatisfy({ $0.stringValue != nil }) else {
                return style.validationFailed([FieldProblem("orderReferenceIds", .invalid, "must be an array of strings")])
            }
            wanted = Set(list.compactMap(\.stringValue))
        }
        let limit = max(1, min(body["limit"]?.intValue ?? 50, 250))
        let offset = max(0, body["offset"]?.intValue ?? 0)
        let orders = ((try? await call.store.orders(of: call.account)) ?? [])
            .filter { $0.dialect == .gelato && (wanted == nil || $0.reference.map { wanted!.contains($0) } == true) }
        let page = orders.dropFirst(offset).prefix(limit)
        return .json(200, ["orders": .array(page.map { .object(summary($0)) })])
    }
}
