import Foundation
import PressroomHTTP
import Testing

/// Printful v1: `external_id` is unique per store; reuse is `OR-13`.
@Suite("test vendor: printful dialect")
struct PrintfulDialectTests {
    @Test("create with confirm=1 is pending; any reuse of external_id is OR-13; @external_id finds the order")
    func externalID() async throws {
        let vendor = try await VendorClient.connect()
        let account = try await vendor.newAccount()
        let asset = try await TestAsset.make()
        let body = Orders.printful(externalID: "shop-A1001-pf", assetURL: asset.url)
        let created = try await vendor.printfulCreate(account, body)
        #expect(created.status == 200, "\(created.text)")
        #expect(created.json["code"] as? Int == 200)
        let id = try #require(value(created.json, "result", "id") as? Int)
        #expect(value(created.json, "result", "external_id") as? String == "shop-A1001-pf")
        #expect(value(created.json, "result", "status") as? String == "pending")

        let expectedReuse: [String: Any] = [
            "code": 400, "result": "Order with this external_id already exists",
        ]
        for reuse in [body, Orders.printful(externalID: "shop-A1001-pf", assetURL: asset.url, quantity: 3)] {
            let response = try await vendor.printfulCreate(account, reuse)
            #expect(response.status == 400)
            #expect(response.json["code"] as? Int == expectedReuse["code"] as? Int)
            #expect(response.json["result"] as? String == expectedReuse["result"] as? String)
            #expect(value(response.json, "error", "reason") as? String == "OR-13")
            #expect(value(response.json, "error", "message") as? String == "EXTERNAL_ID_IN_USE")
        }
        #expect(try await vendor.orders(account).count == 1)

        for path in ["/printful/orders/@shop-A1001-pf", "/printful/orders/\(id)"] {
            let got = try await vendor.send("GET", path, headers: account.bearerHeader)
            #expect(got.status == 200, "\(path)")
            #expect(value(got.json, "result", "id") as? Int == id)
            #expect(value(got.json, "result", "status") as? String == "pending")
        }
        let missing = try await vendor.send("GET", "/printful/orders/@nope", headers: account.bearerHeader)
        #expect(missing.status == 404)
        #expect(missing.json["result"] as? String == "Not found")
        #expect(value(missing.json, "error", "reason") as? String == "NotFound")
        #expect(value(missing.json, "error", "message") as? String == "Order not found")
        let stats = try await vendor.stats(account)
        #expect(value(stats, "ordersByKey", "shop-A1001-pf") as? Int == 1)
        #expect(value(stats, "statuses", "400") as? Int == 2)
    }

    @Test("external ids longer than 32 characters or outside [0-9A-Za-z_-] are refused")
    func invalidExternalID() async throws {
        let vendor = try await VendorClient.connect()
        let account = try await vendor.newAccount()
        let asset = try await TestAsset.make()
        for bad in [String(repeating: "x", count: 33), "has space", "slash/id", "ümlaut"] {
            let response = try await vendor.printfulCreate(account, Orders.printful(externalID: bad, assetURL: asset.url))
            #expect(response.status == 400, "\(bad)")
            #expect(value(response.json, "error", "reason") as? String == "BadRequest")
            #expect((response.json["result"] as? String)?.contains("external_id") == true)
        }
        let longest = String(repeating: "a", count: 32)
        #expect(try await vendor.printfulCreate(account, Orders.printful(externalID: longest, assetURL: asset.url)).status == 200)
    }

    @Test("without confirm the order is a draft until POST …/confirm")
    func draftAndConfirm() async throws {
        let vendor = try await VendorClient.connect()
        let account = try await vendor.newAccount()
        let asset = try await TestAsset.make()
        let created = try await vendor.printfulCreate(account, Orders.printful(externalID: "draft-1", assetURL: asset.url), confirm: false)
        #expect(value(created.json, "result", "status") as? String == "draft")
        let confirmed = try await vendor.send("POST", "/printful/orders/@draft-1/confirm", headers: account.bearerHeader)
        #expect(confirmed.status == 200)
        #expect(value(confirmed.json, "result", "status") as? String == "pending")
        let again = try await vendor.send("POST", "/printful/orders/@draft-1/confirm", headers: account.bearerHeader)
        #expect(value(again.json, "result", "status") as? String == "pending")
    }

    @Test("statuses and shipments in Printful's words; in-flight 409; validation")
    func statusesAndErrors() async throws {
        let vendor = try await VendorClient.connect()
        let account = try await vendor.newAccount()
        let asset = try await TestAsset.make()
        let created = try await vendor.printfulCreate(account, Orders.printful(externalID: "st-1", assetURL: asset.url))
        let id = try #require(value(created.json, "result", "id") as? Int)
        try await vendor.setStatus(account, order: String(id), ["status": "in_production"])
        #expect(value(try await vendor.send("GET", "/printful/orders/@st-1", headers: account.bearerHeader).json, "result", "status") as? String == "inprocess")
        try await vendor.setStatus(account, order: String(id), ["status": "shipped", "carrier": "USPS", "trackingNumber": "9400", "trackingUrl": "https://usps.example/9400"])
        let shipped = try await vendor.send("GET", "/printful/orders/@st-1", headers: account.bearerHeader)
        #expect(value(shipped.json, "result", "status") as? String == "fulfilled")
        #expect(value(shipped.json, "result", "shipments", 0, "carrier") as? String == "USPS")
        #expect(value(shipped.json, "result", "shipments", 0, "tracking_number") as? String == "9400")
        #expect(value(shipped.json, "result", "shipments", 0, "tracking_url") as? String == "https://usps.example/9400")
        try await vendor.setStatus(account, order: String(id), ["status": "cancelled"])
        #expect(value(try await vendor.send("GET", "/printful/orders/\(id)", headers: account.bearerHeader).json, "result", "status") as? String == "canceled")

        let data = Checksums.blob()
        let (url, gate) = try await AssetServer.shared().putGated(data)
        let body = Orders.printful(externalID: "busy-1", assetURL: url)
        let first = Task { try await vendor.printfulCreate(account, body) }
        await gate.waitForArrival()
        #expect(try await vendor.printfulCreate(account, body).status == 409)
        await gate.open()
        #expect(try await first.value.status == 200)

        var invalid = Orders.printful(externalID: "inv-1", assetURL: asset.url)
        var recipient = invalid["recipient"] as! [String: any Sendable]
        recipient["state_code"] = nil
        invalid["recipient"] = recipient
        let refused = try await vendor.printfulCreate(account, invalid)
        #expect(refused.status == 400)
        #expect(value(refused.json, "error", "reason") as? String == "BadRequest")
        #expect((refused.json["result"] as? String)?.contains("recipient.state_code") == true)
        // A refused create does not take the external id.
        #expect(try await vendor.printfulCreate(account, Orders.printful(externalID: "inv-1", assetURL: asset.url)).status == 200)
    }
}
