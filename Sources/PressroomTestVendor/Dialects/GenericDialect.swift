import Foundation

/// Our own dialect for vendors that honour the IETF `Idempotency-Key`
/// header: `POST /generic/orders`, `GET /generic/orders/{id}`.
enum GenericDialect {
    static let style = ErrorStyle.dialect(.generic)
    static let shippingMethods = ["budget", "standard", "express"]
    static let maxKeyLength = 255

    static func route(method: String, parts: [String]) -> RouteMatch {
        switch parts {
        case ["orders"]:
            return method == "POST" ? .handler(.create, create) : .methodNotAllowed(allowed: ["POST"])
        case let path where path.count == 2 && path[0] == "orders":
            return method == "GET" ? .handler(.lookup, { await lookup($0, id: path[1]) }) : .methodNotAllowed(allowed: ["GET"])
        default:
            return .notFound
        }
    }

    static func create(_ call: APICall) async -> Reply {
        guard let header = call.request.headers[.init("Idempotency-Key")] else {
            await call.pause()
            return style.error(400, "the Idempotency-Key header is required")
        }
        guard let key = StructuredFieldString.parse(header), !key.isEmpty, key.count <= maxKeyLength else {
            await call.pause()
            return style.error(400, "Idempotency-Key must be a structured-field string of 1-\(maxKeyLength) characters, e.g. \"8e03978e\"")
        }
        let body: JSONValue
        switch call.jsonBody() {
        case .success(let value): body = value
        case .failure(let refusal): await call.pause(); return refusal.reply
        }
        var plan = validate(body)
        plan.key = key
        plan.statsKey = key
        return await CreateFlow.run(plan, call)
    }

    static func validate(_ body: JSONValue) -> CreatePlan {
        var check = BodyValidator(rejectsUnknownFields: true)
        let top = check.object(body, at: "", allowed: ["reference", "shipping", "recipient", "items", "callbackUrl"]) ?? [:]
        let reference = check.string(top, "reference", at: "", maxLength: 128)
        check.string(top, "shipping", at: "", oneOf: shippingMethods)
        check.url(top, "callbackUrl", at: "", required: false)
        if let recipient = check.object(top["recipient"], at: "recipient", allowed: ["name", "email", "phone", "address"]) {
            check.string(recipient, "name", at: "recipient")
            check.string(recipient, "email", at: "recipient", required: false, pattern: "^[^@\\s]+@[^@\\s]+$")
            check.string(recipient, "phone", at: "recipient", required: false, maxLength: 64)
            let addressPath = "recipient.address"
            if let address = check.object(recipient["address"], at: addressPath,
                                          allowed: ["lines", "city", "state", "postalCode", "countryCode"]) {
                if let lines = check.array(address, "lines", at: addressPath) {
                    for (index, line) in lines.enumerated() where line.stringValue == nil || (index == 0 && line.stringValue!.isEmpty) {
                        check.fail("\(addressPath).lines[\(index)]", .invalid, "must be a non-empty string")
                    }
                    if lines.count > 4 { check.fail("\(addressPath).lines", .invalid, "at most 4 lines") }
                }
                check.string(address, "city", at: addressPath)
                check.string(address, "state", at: addressPath, required: false)
                check.string(address, "postalCode", at: addressPath, maxLength: 32)
                check.string(address, "countryCode", at: addressPath, pattern: "^[A-Z]{2}$")
            }
        }
        var assets: [AssetFetcher.Request] = []
        let items = check.array(top, "items", at: "") ?? []
        for (i, item) in items.enumerated() {
            let itemPath = "items[\(i)]"
            guard let object = check.object(item, at: itemPath, allowed: ["sku", "quantity", "assets"]) else { continue }
            check.string(object, "sku", at: itemPath)
            check.integer(object, "quantity", at: itemPath)
            for (j, asset) in (check.array(object, "assets", at: itemPath) ?? []).enumerated() {
                let assetPath = "\(itemPath).assets[\(j)]"
                guard let fields = check.object(asset, at: assetPath, allowed: ["url", "sha256", "md5"]) else { continue }
                let url = check.url(fields, "url", at: assetPath)
                let sha256 = check.string(fields, "sha256", at: assetPath, required: false)
                let md5 = check.string(fields, "md5", at: assetPath, required: false)
                if sha256 == nil, md5 == nil, fields["sha256"] == nil, fields["md5"] == nil {
                    check.fail("\(assetPath).sha256", .required, "give sha256 or md5 of the asset")
                }
                if let url {
                    var checksums: [(digest: Digest, value: String, path: String)] = []
                    if let sha256 { checksums.append((.sha256, sha256, "\(assetPath).sha256")) }
                    if let md5 { checksums.append((.md5, md5, "\(assetPath).md5")) }
                    assets.append(AssetFetcher.Request(url: url, urlPath: "\(assetPath).url", checksums: checksums))
                }
            }
        }
        return CreatePlan(
            dialect: .generic, key: nil, statsKey: nil, reference: reference, body: body, problems: check.problems,
            assets: assets, initialStatus: .received, itemCount: items.count,
            render: { order in
                .json(201, createdBody(order), headers: [("Location", "/generic/orders/\(order.id)")])
            },
            replay: { sameBody, _, first in
                sameBody ? Reply(first).adding(header: "Idempotent-Replayed", "true")
                    : style.error(422, "idempotency key reused with a different payload")
            })
    }

    static func createdBody(_ order: VendorOrder) -> JSONValue {
        [
            "id": .string(order.id),
            "reference": .optional(order.reference),
            "status": .string(order.status.rawValue),
            "createdAt": .string(Timestamp.iso(order.createdAt)),
        ]
    }

    static func orderBody(_ order: VendorOrder) -> JSONValue {
        var body = createdBody(order).objectValue!
        body["updatedAt"] = .string(Timestamp.iso(order.updatedAt))
        if let shipment = order.shipment {
            body["shipment"] = [
                "carrier": .string(shipment.carrier), "trackingNumber": .string(shipment.trackingNumber),
                "trackingUrl": .optional(shipment.trackingUrl),
            ]
        }
        return .object(body)
    }

    static func lookup(_ call: APICall, id: String) async -> Reply {
        await call.pause()
        guard let order = await call.store.order(id, dialect: .generic, account: call.account) else {
            return style.orderNotFound()
        }
        return .json(200, orderBody(order))
    }
}
