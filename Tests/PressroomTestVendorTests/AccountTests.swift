import Foundation
import PressroomHTTP
import Testing

/// Accounts keep tests apart; the control API refuses what it does not understand.
@Suite("test vendor: accounts and control API")
struct AccountTests {
    @Test("two accounts can use the same key without seeing each other's orders")
    func isolation() async throws {
        let vendor = try await VendorClient.connect()
        let a = try await vendor.newAccount()
        let b = try await vendor.newAccount()
        let asset = try await TestAsset.make()
        let fromA = try await vendor.genericCreate(a, key: "shared", Orders.generic(reference: "A", assetURL: asset.url, sha256: asset.sha256))
        let fromB = try await vendor.genericCreate(b, key: "shared", Orders.generic(reference: "B", assetURL: asset.url, sha256: asset.sha256))
        #expect(fromA.status == 201)
        #expect(fromB.status == 201)
        let idA = try #require(fromA.json["id"] as? String)
        #expect(try await vendor.get(b, "/generic/orders/\(idA)").status == 404)
        #expect(try await vendor.get(a, "/generic/orders/\(idA)").status == 200)
        #expect(try await vendor.orders(a).map { $0["reference"] as? String } == ["A"])
        #expect(try await vendor.orders(b).map { $0["reference"] as? String } == ["B"])
        try await vendor.fault(a, ["action": "status", "status": 500])
        #expect(try await vendor.get(b, "/generic/orders/none").status == 404, "A's fault is not B's")
        #expect(try await vendor.get(a, "/generic/orders/none").status == 500)
    }

    @Test("account definitions: repeats are accepted, conflicts and shared credentials are 409, bad fields 400")
    func definitions() async throws {
        let vendor = try await VendorClient.connect()
        let account = try await vendor.newAccount()
        let same: [String: any Sendable] = [
            "id": account.id, "apiKey": account.apiKey, "bearerToken": account.bearerToken, "clientId": account.clientId,
            "clientSecret": account.clientSecret, "tokenTTL": 3600, "latencyMs": 0,
        ]
        let echoed = try #require(try await vendor.control("POST", "/accounts", JSON(same), expect: 200) as? [String: Any])
        #expect(echoed["id"] as? String == account.id)
        #expect(!String(decoding: try JSONSerialization.data(withJSONObject: echoed), as: UTF8.self).contains(account.clientSecret),
                "secrets are never echoed")
        var changed = same
        changed["latencyMs"] = 5
        try await vendor.control("POST", "/accounts", JSON(changed), expect: 409)
        try await vendor.control("POST", "/accounts", JSON(["id": "other-\(UUID().uuidString.prefix(6))", "apiKey": account.apiKey]), expect: 409)
        for bad: [String: any Sendable] in [
            ["id": "x y", "apiKey": "k"],
            ["id": "no-credentials"],
            ["id": "typo", "apiKey": "k-\(UUID().uuidString)", "latency": 5],
            ["id": "half-client", "clientId": "c-\(UUID().uuidString)"],
            ["id": "negative", "apiKey": "k-\(UUID().uuidString)", "latencyMs": -1],
        ] {
            try await vendor.control("POST", "/accounts", JSON(bad), expect: 400)
        }
        try await vendor.control("GET", "/accounts/\(account.id)")
        try await vendor.control("DELETE", "/accounts/\(account.id)", expect: 204)
        try await vendor.control("GET", "/accounts/\(account.id)/stats", expect: 404)
        #expect(try await vendor.get(account, "/generic/orders/none").status == 401, "a deleted account's key no longer works")
    }

    @Test("faults and status changes are validated")
    func controlValidation() async throws {
        let vendor = try await VendorClient.connect()
        let account = try await vendor.newAccount()
        let path = "/accounts/\(account.id)/faults"
        for bad: [String: any Sendable] in [
            ["action": "explode"],
            ["action": "status"],
            ["action": "status", "status": 200],
            ["action": "slow", "operation": "delete"],
            ["action": "slow", "delay": 5],
            ["action": "slow", "count": 0],
        ] {
            try await vendor.control("POST", path, JSON(bad), expect: 400)
        }
        try await vendor.control("POST", "/accounts/nobody/faults", JSON(["action": "slow"]), expect: 404)
        try await vendor.control("POST", path, JSON(["action": "slow", "count": 2]), expect: 201)
        let listed = try #require(try await vendor.control("GET", path) as? [String: Any])
        #expect(value(listed, "faults", 0, "count") as? Int == 2)
        #expect(value(listed, "faults", 0, "operation") as? String == "any")
        try await vendor.control("DELETE", path, expect: 204)
        #expect(value(try await vendor.stats(account), "pendingFaults") as? Int == 0)

        let asset = try await TestAsset.make()
        let created = try await vendor.genericCreate(account, key: "c", Orders.generic(assetURL: asset.url, sha256: asset.sha256))
        let id = try #require(created.json["id"] as? String)
        let status = "/accounts/\(account.id)/orders/\(id)/status"
        try await vendor.control("POST", status, JSON(["status": "shipped", "carrier": "UPS"]), expect: 400)
        try await vendor.control("POST", status, JSON(["status": "lost"]), expect: 400)
        try await vendor.control("POST", status, JSON(["status": "cancelled", "reason": "x"]), expect: 400)
        try await vendor.control("POST", "/accounts/\(account.id)/orders/gen_none/status", JSON(["status": "cancelled"]), expect: 404)
        let single = try #require(try await vendor.control("GET", "/accounts/\(account.id)/orders/\(id)") as? [String: Any])
        #expect(single["status"] as? String == "received")
        try await vendor.control("GET", "/nothing-here", expect: 404)
    }

    @Test("unknown routes and wrong methods answer in the dialect's shape")
    func routes() async throws {
        let vendor = try await VendorClient.connect()
        let account = try await vendor.newAccount()
        let wrongMethod = try await vendor.send("DELETE", "/printful/orders", headers: account.bearerHeader)
        #expect(wrongMethod.status == 405)
        #expect(wrongMethod.headers["allow"] == "POST")
        #expect(wrongMethod.json["code"] as? Int == 405)
        let unknown = try await vendor.send("GET", "/gelato/v4/products", headers: account.keyHeader)
        #expect(unknown.status == 404)
        #expect(unknown.json["code"] as? String == "not_found")
        #expect(try await vendor.send("GET", "/lulu/print-jobs").status == 404)
    }
}
