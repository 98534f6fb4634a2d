import FlyingFox
import Foundation

/// The test-only API under `/_control`: accounts, faults, inspection and
/// status changes. No authentication (the server only listens on loopback).
enum ControlAPI {
    static func handle(_ request: FlyingFox.HTTPRequest, parts: [String], store: VendorStore) async -> Reply {
        do {
            return try await route(request, parts: parts, store: store)
        } catch {
            return .json(error.status, ["error": .string(error.message)])
        }
    }

    private static func route(_ request: FlyingFox.HTTPRequest, parts: [String], store: VendorStore) async throws(ControlError) -> Reply {
        let method = request.method.rawValue
        func only(_ allowed: String...) throws(ControlError) {
            guard allowed.contains(method) else {
                throw ControlError(status: 405, message: "use \(allowed.joined(separator: " or ")) here")
            }
        }
        switch parts {
        case ["health"]:
            try only("GET")
            return .json(200, ["ok": true])
        case ["accounts"]:
            try only("POST")
            let spec = try AccountSpec.parse(try await json(request))
            let created = try await store.createAccount(spec)
            return .json(created ? 201 : 200, spec.json)
        case let path where path.count == 2 && path[0] == "accounts":
            try only("GET", "DELETE")
            if method == "DELETE" {
                try await store.deleteAccount(path[1])
                return Reply(status: 204, body: Data())
            }
            return .json(200, try await store.account(path[1]).spec.json)
        case let path where path.count == 3 && path[0] == "accounts" && path[2] == "faults":
            try only("POST", "GET", "DELETE")
            switch method {
            case "POST":
                let body = try await json(request)
                var faults: [Fault] = []
                for value in body.arrayValue ?? [body] { faults.append(try Fault.parse(value)) }
                let pending = try await store.addFaults(faults, to: path[1])
                return .json(201, ["faults": .array(pending.map(\.json))])
            case "DELETE":
                try await store.clearFaults(of: path[1])
                return Reply(status: 204, body: Data())
            default:
                return .json(200, ["faults": .array(try await store.account(path[1]).faults.map(\.json))])
            }
        case let path where path.count == 3 && path[0] == "accounts" && path[2] == "orders":
            try only("GET")
            var inspected: [JSONValue] = []
            for order in try await store.orders(of: path[1]) { inspected.append(await inspection(order, store: store, account: path[1])) }
            return .json(200, .array(inspected))
        case let path where path.count == 3 && path[0] == "accounts" && path[2] == "stats":
            try only("GET")
            return .json(200, try await store.account(path[1]).statsJSON)
        case let path where path.count == 4 && path[0] == "accounts" && path[2] == "orders":
            try only("GET")
            _ = try await store.account(path[1])
            guard let order = await store.order(path[3], account: path[1]) else { throw .notFound("no order \(path[3])") }
            return .json(200, await inspection(order, store: store, account: path[1]))
        case let path where path.count == 5 && path[0] == "accounts" && path[2] == "orders" && path[4] == "status":
            try only("POST")
            _ = try await store.account(path[1])
            let (status, shipment) = try statusChange(try await json(request))
            guard let order = await store.update(path[3], account: path[1], { order in
                order.status = status
                if let shipment { order.shipment = shipment }
            }) else { throw .notFound("no order \(path[3])") }
            return .json(200, await inspection(order, store: store, account: path[1]))
        default:
            throw .notFound("no such control endpoint")
        }
    }

    private static func json(_ request: FlyingFox.HTTPRequest) async throws(ControlError) -> JSONValue {
        guard let data = try? await request.bodyData, let value = JSONValue.parse(data) else {
            throw .badRequest("the body must be JSON")
        }
        return value
    }

    /// `{"status":"in_production|shipped|cancelled","carrier","trackingNumber","trackingUrl"}`.
    private static func statusChange(_ body: JSONValue) throws(ControlError) -> (OrderStatus, VendorOrder.Shipment?) {
        guard let object = body.objectValue else { throw .badRequest("the body must be a JSON object") }
        let allowed: Set<String> = ["status", "carrier", "trackingNumber", "trackingUrl"]
        if let unknown = object.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw .badRequest("unknown field \"\(unknown)\"")
        }
        guard let name = object["status"]?.stringValue, let status = OrderStatus(rawValue: name),
              [.inProduction, .shipped, .cancelled].contains(status)
        else { throw .badRequest("status must be in_production, shipped or cancelled") }
        guard status == .shipped else { return (status, nil) }
        guard let carrier = object["carrier"]?.stringValue, !carrier.isEmpty,
              let number = object["trackingNumber"]?.stringValue, !number.isEmpty
        else { throw .badRequest("shipped needs carrier and trackingNumber") }
        return (status, VendorOrder.Shipment(carrier: carrier, trackingNumber: number, trackingUrl: object["trackingUrl"]?.stringValue))
    }

    static func inspection(_ order: VendorOrder, store: VendorStore, account: String) async -> JSONValue {
        [
            "id": .string(order.id),
            "dialect": .string(order.dialect.rawValue),
            "key": .optional(order.key),
            "reference": .optional(order.reference),
            "status": .string(order.status.rawValue),
            "createRequests": .int(await store.createRequests(for: order, account: account)),
            "assets": .array(order.assets.map { asset in
                [
                    "url": .string(asset.url), "downloaded": .bool(asset.downloaded), "bytes": .int(asset.bytes),
                    "sha256": .string(asset.sha256), "md5": .string(asset.md5),
                    "checksumOK": asset.checksumOK.map(JSONValue.bool) ?? .null,
                ]
            }),
            "shipment": order.shipment.map { shipment in
                ["carrier": .string(shipment.carrier), "trackingNumber": .string(shipment.trackingNumber),
                 "trackingUrl": .optional(shipment.trackingUrl)]
            } ?? .null,
            "createdAt": .string(Timestamp.iso(order.createdAt)),
            "updatedAt": .string(Timestamp.iso(order.updatedAt)),
            "body": order.body,
        ]
    }
}
