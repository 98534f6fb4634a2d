import Foundation

/// Printful API v1 orders: `POST /printful/orders?confirm=1` with
/// `external_id` unique per store (reuse with any body is `OR-13`),
/// `GET /printful/orders/@{external_id}` or `/printful/orders/{id}`, and
/// `POST /printful/orders/{id}/confirm` for drafts. `external_id` is
/// required here (optional at Printful) so every order can be found again.
enum PrintfulDialect {
    static let style = ErrorStyle.dialect(.printful)
    static let externalIDPattern = "^[0-9A-Za-z_-]{1,32}$"
    /// Printful wants a state code for these countries.
    static let countriesWithStates: Set<String> = ["US", "CA", "AU"]

    static func route(method: String, parts: [String]) -> RouteMatch {
        switch parts {
        case ["orders"]:
            return method == "POST" ? .handler(.create, create) : .methodNotAllowed(allowed: ["POST"])
        case let path where path.count == 2 && path[0] == "orders":
            return method == "GET" ? .handler(.lookup, { await lookup($0, id: path[1]) }) : .methodNotAllowed(allowed: ["GET"])
        case let path where path.count == 3 && path[0] == "orders" && path[2] == "confirm":
            return method == "POST" ? .handler(.confirm, { await confirm($0, id: path[1]) }) : .methodNotAllowed(allowed: ["POST"])
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
        let confirm = ["1", "true"].contains(call.request.query["confirm"]?.lowercased() ?? "")
        var plan = validate(body, confirm: confirm)
        guard let key = plan.key else {
            await call.pause()
            return style.validationFailed(plan.problems)
        }
        plan.statsKey = key
        return await CreateFlow.run(plan, call)
    }

    static func validate(_ body: JSONValue, confirm: Bool) -> CreatePlan {
        var check = BodyValidator(rejectsUnknownFields: false)
        let top = body.objectValue ?? [:]
        var key: String?
        switch top["external_id"] {
        case nil, .null?:
            check.fail("external_id", .required, "external_id is required")
        case .string(let text)? where text.range(of: externalIDPattern, options: .regularExpression) != nil:
            key = text
        default:
            check.fail("external_id", .invalid, "Invalid external_id: at most 32 characters of [0-9A-Za-z_-]")
        }
        check.string(top, "shipping", at: "", required: false)
        if let recipient = check.object(top["recipient"], at: "recipient") {
            for field in ["name", "address1", "city", "zip"] { check.string(recipient, field, at: "recipient") }
            let country = check.string(recipient, "country_code", at: "recipient", pattern: "^[A-Z]{2}$")
            check.string(recipient, "state_code", at: "recipient", required: country.map(countriesWithStates.contains) ?? false)
            check.string(recipient, "address2", at: "recipient", required: false)
            check.string(recipient, "email", at: "recipient", required: false, pattern: "^[^@\\s]+@[^@\\s]+$")
            check.string(recipient, "phone", at: "recipient", required: false, maxLength: 64)
        }
        var assets: [AssetFetcher.Request] = []
        let items = check.array(top, "items", at: "") ?? []
        for (i, item) in items.enumerated() {
            let itemPath = "items[\(i)]"
            guard let object = check.object(item, at: itemPath) else { continue }
            let variants = ["variant_id", "external_variant_id", "sync_variant_id"].filter { object[$0] != nil && object[$0] != .null }
            if variants.isEmpty { check.fail("\(itemPath).variant_id", .required, "variant_id or external_variant_id is required") }
            if object["variant_id"] != nil { check.integer(object, "variant_id", at: itemPath) }
            if object["sync_variant_id"] != nil { check.integer(object, "sync_variant_id", at: itemPath) }
            if object["external_variant_id"] != nil { check.string(object, "external_variant_id", at: itemPath) }
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
            dialect: .printful, key: key, statsKey: key, reference: key, body: body, problems: check.problems,
            assets: assets, initialStatus: confirm ? .received : .draft, itemCount: items.count,
            render: { order in .json(200, ["code": 200, "result": orderBody(order)]) },
            replay: { _, _, _ in
                .json(400, [
                    "code": 400, "result": "Order with this external_id already exists",
                    "error": ["reason": "OR-13", "message": "EXTERNAL_ID_IN_USE"],
                ])
            })
    }

    static func statusName(_ status: OrderStatus) -> String {
        switch status {
        case .draft: "draft"
        case .received: "pending"
        case .inProduction: "inprocess"
        case .shipped: "fulfilled"
        case .cancelled: "canceled"
        }
    }

    static func orderBody(_ order: VendorOrder) -> JSONValue {
        let body = order.body.objectValue ?? [:]
        let items = (body["items"]?.arrayValue ?? []).enumerated().map { index, item -> JSONValue in
            let fields = item.objectValue ?? [:]
            let files = (fields["files"]?.arrayValue ?? []).map { file -> JSONValue in
                ["type": file["type"] ?? "default", "url": file["url"] ?? .null, "status": "ok"]
            }
            return [
                "id": .int(order.itemIDs.indices.contains(index) ? Int(order.itemIDs[index]) ?? 0 : 0),
                "external_id": fields["external_id"] ?? .null, "variant_id": fields["variant_id"] ?? .null,
                "sync_variant_id": fields["sync_variant_id"] ?? .null,
                "external_variant_id": fields["external_variant_id"] ?? .null,
                "quantity": fields["quantity"] ?? .null, "files": .array(files),
            ]
        }
        var shipments: [JSONValue] = []
        if let shipment = order.shipment, order.status == .shipped {
            let shipped = Int(order.updatedAt.timeIntervalSince1970)
            shipments.append([
                "id": .int(order.number), "carrier": .string(shipment.carrier), "service": .string(shipment.carrier),
                "tracking_number": .string(shipment.trackingNumber), "tracking_url": .optional(shipment.trackingUrl),
                "created": .int(shipped), "ship_date": .string(String(Timestamp.iso(order.updatedAt).prefix(10))),
                "shipped_at": .int(shipped), "reshipment": false, "items": [],
            ])
        }
        return [
            "id": .int(order.number),
            "external_id": .optional(order.key),
            "store": 1,
            "status": .string(statusName(order.status)),
            "shipping": body["shipping"] ?? "STANDARD",
            "shipping_service_name": "Flat Rate",
            "created": .int(Int(order.createdAt.timeIntervalSince1970)),
            "updated": .int(Int(order.updatedAt.timeIntervalSince1970)),
            "recipient": body["recipient"] ?? .null,
            "items": .array(items),
            "shipments": .array(shipments),
            "costs": ["currency": "USD", "subtotal": "0.00", "shipping": "0.00", "tax": "0.00", "total": "0.00"],
        ]
    }

    /// `@{external_id}` or the numeric id.
    static func find(_ call: APICall, id: String) async -> VendorOrder? {
        if id.hasPrefix("@") {
            return await call.store.order(key: String(id.dropFirst()), dialect: .printful, account: call.account)
        }
        return await call.store.order(id, dialect: .printful, account: call.account)
    }

    static func lookup(_ call: APICall, id: String) async -> Reply {
        await call.pause()
        guard let order = await find(call, id: id) else { return style.orderNotFound() }
        return .json(200, ["code": 200, "result": orderBody(order)])
    }

    /// Confirms a draft for fulfilment; a confirmed order is returned unchanged.
    static func confirm(_ call: APICall, id: String) async -> Reply {
        await call.pause()
        guard let order = await find(call, id: id) else { return style.orderNotFound() }
        if order.status == .cancelled { return style.error(400, "Order is canceled") }
        let updated = order.status == .draft
            ? await call.store.update(order.id, account: call.account) { $0.status = .received } ?? order
            : order
        return .json(200, ["code": 200, "result": orderBody(updated)])
    }
}
