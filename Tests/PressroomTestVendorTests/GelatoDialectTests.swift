import Foundation
import PressroomHTTP
import Testing

/// Gelato v4: no dedupe at all; drafts, confirmation and search.
@Suite("test vendor: gelato dialect")
struct GelatoDialectTests {
    @Test("a second create with the same orderReferenceId is a second order, counted as a duplicate")
    func noDedupe() async throws {
        let vendor = try await VendorClient.connect()
        let account = try await vendor.newAccount()
        let asset = try await TestAsset.make()
        let body = Orders.gelato(reference: "G-1", orderType: "order", assetURL: asset.url)
        let first = try await vendor.gelatoCreate(account, body)
        let second = try await vendor.gelatoCreate(account, body)
        #expect(first.status == 200, "\(first.text)")
        #expect(second.status == 200)
        let ids = [first.json["id"] as? String, second.json["id"] as? String].compactMap { $0 }
        #expect(Set(ids).count == 2)
        #expect(first.json["fulfillmentStatus"] as? String == "created")
        #expect(first.json["orderType"] as? String == "order")
        let stats = try await vendor.stats(account)
        #expect(stats["ordersCreated"] as? Int == 2)
        #expect(value(stats, "ordersByKey", "G-1") as? Int == 2)
        #expect(stats["duplicates"] as? Int == 1)
        #expect(try await AssetServer.shared().hits(asset.url) == 2, "each create downloads its files")
        let orders = try await vendor.orders(account)
        #expect(orders.map { $0["createRequests"] as? Int } == [1, 1])
        #expect(orders.allSatisfy { value($0, "assets", 0, "checksumOK") is NSNull }, "Gelato sends no checksum")
    }

    @Test("draft, confirm with PATCH, search by orderReferenceId, lookups with shipments")
    func draftConfirmSearch() async throws {
        let vendor = try await VendorClient.connect()
        let account = try await vendor.newAccount()
        let asset = try await TestAsset.make()
        let created = try await vendor.gelatoCreate(account, Orders.gelato(reference: "G-2", assetURL: asset.url))
        let id = try #require(created.json["id"] as? String)
        #expect(UUID(uuidString: id) != nil)
        #expect(created.json["fulfillmentStatus"] as? String == "draft")
        #expect(created.json["orderType"] as? String == "draft")

        let headers = [(name: "X-API-KEY", value: account.apiKey)]
        func search(_ references: [String]) async throws -> [[String: Any]] {
            let response = try await vendor.send("POST", "/gelato/v4/orders:search", body: JSON(["orderReferenceIds": references]).data, headers: headers)
            #expect(response.status == 200)
            return response.json["orders"] as? [[String: Any]] ?? []
        }
        #expect(try await search(["G-2"]).map { $0["id"] as? String } == [id])
        #expect(try await search(["G-2"]).first?["fulfillmentStatus"] as? String == "draft")
        #expect(try await search(["nothing"]).isEmpty)

        let confirm = try await vendor.send("PATCH", "/gelato/v4/orders/\(id)", body: JSON(["orderType": "order"]).data, headers: headers)
        #expect(confirm.status == 200, "\(confirm.text)")
        #expect(confirm.json["fulfillmentStatus"] as? String == "created")
        #expect(confirm.json["orderType"] as? String == "order")
        let confirmAgain = try await vendor.send("PATCH", "/gelato/v4/orders/\(id)", body: JSON(["orderType": "order"]).data, headers: headers)
        #expect(confirmAgain.status == 200)
        let badPatch = try await vendor.send("PATCH", "/gelato/v4/orders/\(id)", body: JSON(["orderType": "draft"]).data, headers: headers)
        #expect(badPatch.status == 400)
        #expect(badPatch.json["code"] as? String == "validation_error")

        try await vendor.setStatus(account, order: id, ["status": "in_production"])
        #expect(try await vendor.send("GET", "/gelato/v4/orders/\(id)", headers: headers).json["fulfillmentStatus"] as? String == "in_production")
        try await vendor.setStatus(account, order: id, ["status": "shipped", "carrier": "DHL", "trackingNumber": "JD01", "trackingUrl": "https://dhl.example/JD01"])
        let shipped = try await vendor.send("GET", "/gelato/v4/orders/\(id)", headers: headers)
        #expect(shipped.json["fulfillmentStatus"] as? String == "shipped")
        #expect(value(shipped.json, "shipment", "shipmentMethodName") as? String == "DHL")
        #expect(value(shipped.json, "shipment", "packages", 0, "trackingCode") as? String == "JD01")
        #expect(value(shipped.json, "shipment", "packages", 0, "trackingUrl") as? String == "https://dhl.example/JD01")
        try await vendor.setStatus(account, order: id, ["status": "cancelled"])
        #expect(try await vendor.send("GET", "/gelato/v4/orders/\(id)", headers: headers).json["fulfillmentStatus"] as? String == "canceled")
        #expect(try await vendor.send("GET", "/gelato/v4/orders/\(UUID().uuidString.lowercased())", headers: headers).status == 404)
    }

    @Test("validation errors are validation_error with the field in the message")
    func validation() async throws {
        let vendor = try await VendorClient.connect()
        let account = try await vendor.newAccount()
        let asset = try await TestAsset.make()
        var body = Orders.gelato(assetURL: asset.url)
        body["currency"] = "euro"
        let response = try await vendor.gelatoCreate(account, body)
        #expect(response.status == 400)
        #expect(response.json["code"] as? String == "validation_error")
        #expect((response.json["message"] as? String)?.contains("currency") == true)
        #expect(try await vendor.orders(account).isEmpty)
    }
}
