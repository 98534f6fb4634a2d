import Foundation

/// Prodigi Print API v4: `POST /prodigi/v4.0/Orders` with `idempotencyKey`
/// in the body, `GET /prodigi/v4.0/Orders/{id}`. Unknown fields are
/// ignored, as Prodigi does; `idempotencyKey` is required here (Prodigi
/// makes it optional, but a create without it cannot be made exactly-once).
enum ProdigiDialect {
    static let style = ErrorStyle.dialect(.prodigi)
    static let shippingMethods = ["Budget", "Standard", "Express", "Overnight"]
    static let sizings = ["fillPrintArea", "fitPrintArea", "stretchToPrintArea"]

    static func route(method: String, parts: [String]) -> RouteMatch {
        switch parts {
        case ["v4.0", "Orders"]:
            return method == "POST" ? .handler(.create, create) : .methodNotAllowed(allowed: ["POST"])
        case let path where path.count == 3 && path[0] == "v4.0" && path[1] == "Orders":
            return method == "GET" ? .handler(.lookup, { await lookup($0, id: path[2]) }) : .methodNotAllowed(allowed: ["GET"])
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
        var plan = validate(body)
        guard let key = plan.key else {
            // No key to reserve: refuse at once (the problem is in the plan).
            await call.pause()
            return style.validationFailed(plan.problems)
        }
        plan.statsKey = key
        return await CreateFlow.run(plan, call)
    }

    static func validate(_ body: JSONValue) -> CreatePlan {
        var check = BodyValidator(rejectsUnknownFields: false)
        let top = body.objectValue ?? [:]
        let key = check.string(top, "idempotencyKey", at: "", maxLength: 255)
        let reference = check.string(top, "merchantReference", at: "", required: false, maxLength: 128)
        check.url(top, "callbackUrl", at: "", required: false)
        check.string(top, "shippingMethod", at: "", oneOf: shippingMethods)
        if let recipient = check.object(top["recipient"], at: "recipient") {
            check.string(recipient, "name", at: "recipient")
            check.string(recipient, "email", at: "recipient", required: false, pattern: "^[^@\\s]+@[^@\\s]+$")
            check.string(recipient, "phoneNumber", at: "recipient", required: false, maxLength: 64)
            if let address = check.object(recipient["address"], at: "recipient.address") {
                for field in ["line1", "postalOrZipCode", "townOrCity"] {
                    check.string(address, field, at: "recipient.address")
                }
                check.string(address, "line2", at: "recipient.address", required: false)
                check.string(address, "stateOrCounty", at: "recipient.address", required: false)
                check.string(address, "countryCode", at: "recipient.address", pattern: "^[A-Z]{2}$")
            }
        }
        var assets: [AssetFetcher.Request] = []
        let items = check.array(top, "items", at: "") ?? []
        for (i, item) in items.enumerated() {
            let itemPath = "items[\(i)]"
            guard let object = check.object(item, at: itemPath) else { continue }
            check.string(object, "merchantReference", at: itemPath, required: false)
            check.string(object, "sku", at: itemPath)
            check.integer(object, "copies", at: itemPath)
            check.string(object, "sizing", at: itemPath, oneOf: sizings)
            for (j, asset) in (check.array(object, "assets", at: itemPath) ?? []).enumerated() {
                let assetPath = "\(itemPath).assets[\(j)]"
                guard let fields = check.object(asset, at: assetPath) else { continue }
                check.string(fields, "printArea", at: assetPath)
                let url = check.url(fields, "url", at: assetPath)
                let md5 = check.string(fields, "md5Hash", at: assetPath, required: false)
                if let url {
                    assets.append(AssetFetcher.Request(
                        url: url, urlPath: "\(assetPath).url",
                        checksums: md5.map { [(Digest.md5, $0, "\(assetPath).md5Hash")] } ?? []))
                }
            }
        }
        return CreatePlan(
            dialect: .prodigi, key: key, statsKey: key, reference: reference, body: body, problems: check.problems,
            assets: assets, initialStatus: .received, itemCount: items.count,
            render: { order in .json(200, ["outcome": "Created", "order": orderBody(order)]) },
            replay: { sameBody, existing, _ in
                guard sameBody, let existing else {
                    return .json(422, [
                        "outcome": "ValidationFailed",
                        "failures": ["idempotencyKey": [["code": "AlreadyUsedWithDifferentPayload", "providedValue": .optional(key)]]],
                        "traceParent": .string(ErrorStyle.traceParent()),
                    ])
                }
                return .json(200, ["outcome": "AlreadyExists", "order": orderBody(existing)])
            })
    }

    /// A Prodigi order resource, from the neutral status.
    static func orderBody(_ order: VendorOrder) -> JSONValue {
        let body = order.body.objectValue ?? [:]
        let stage: String
        var inProduction = "NotStarted", shipping = "NotStarted"
        switch order.status {
        case .draft, .received: stage = "InProgress"
        case .inProduction: stage = "InProgress"; inProduction = "InProgress"
        case .shipped: stage = "Complete"; inProduction = "Complete"; shipping = "Complete"
        case .cancelled: stage = "Cancelled"
        }
        let items = (body["items"]?.arrayValue ?? []).enumerated().map { index, item -> JSONValue in
            let fields = item.objectValue ?? [:]
            let assets = (fields["assets"]?.arrayValue ?? []).map { asset -> JSONValue in
                let assetFields = asset.objectValue ?? [:]
                return [
                    "printArea": assetFields["printArea"] ?? .null, "url": assetFields["url"] ?? .null,
                    "md5Hash": assetFields["md5Hash"] ?? .null, "status": "Complete",
                ]
            }
            return [
                "id": .string(order.itemIDs.indices.contains(index) ? order.itemIDs[index] : ""),
                "status": "Ok", "merchantReference": fields["merchantReference"] ?? .null, "sku": fields["sku"] ?? .null,
                "copies": fields["copies"] ?? .null, "sizing": fields["sizing"] ?? .null,
                "attributes": fields["attributes"] ?? [:], "assets": .array(assets),
            ]
        }
        var shipments: [JSONValue] = []
        if let shipment = order.shipment, order.status == .shipped {
            shipments.append([
                "id": .string("shp_\(order.id.dropFirst(4))"), "status": "Shipped",
                "carrier": ["name": .string(shipment.carrier), "service": .string(shipment.carrier)],
                "tracking": ["number": .string(shipment.trackingNumber), "url": .optional(shipment.trackingUrl)],
                "dispatchDate": .string(Timestamp.iso(order.updatedAt)),
                "items": .array(order.itemIDs.map { ["itemId": .string($0)] }),
                "fulfillmentLocation": ["countryCode": "GB", "labCode": "pressroom-test-vendor"],
            ])
        }
        return [
            "id": .string(order.id),
            "created": .string(Timestamp.iso(order.createdAt)),
            "lastUpdated": .string(Timestamp.iso(order.updatedAt)),
            "callbackUrl": body["callbackUrl"] ?? .null,
            "merchantReference": body["merchantReference"] ?? .null,
            "idempotencyKey": body["idempotencyKey"] ?? .null,
            "shippingMethod": body["shippingMethod"] ?? .null,
            "status": [
                "stage": .string(stage),
                "issues": [],
                "details": [
                    "downloadAssets": "Complete", "printReadyAssetsPrepared": "Complete", "allocateProductionLocation": "Complete",
                    "inProduction": .string(inProduction), "shipping": .string(shipping),
                ],
            ],
            "charges": [],
            "shipments": .array(shipments),
            "recipient": body["recipient"] ?? .null,
            "items": .array(items),
            "packingSlip": .null,
            "metadata": body["metadata"] ?? [:],
        ]
    }

    static func lookup(_ call: APICall, id: String) async -> Reply {
        await call.pause()
        guard let order = await call.store.order(id, dialect: .prodigi, account: call.account) else {
            return style.orderNotFound()
        }
        return .json(200, ["outcome": "Ok", "order": orderBody(order)])
    }
}
