import Foundation
import PressroomHTTP
import Testing

/// Prodigi v4: `idempotencyKey` in the body, `outcome` in every answer.
@Suite("test vendor: prodigi dialect")
struct ProdigiDialectTests {
    @Test("create is Created; the same body again is AlreadyExists with the same order; a different body is 422")
    func dedupe() async throws {
        let vendor = try await VendorClient.connect()
        let account = try await vendor.newAccount()
        let asset = try await TestAsset.make()
        let body = Orders.prodigi(key: "idem-1", reference: "M-1", assetURL: asset.url, md5: asset.md5)
        let created = try await vendor.prodigiCreate(account, body)
        #expect(created.status == 200, "\(created.text)")
        #expect(created.json["outcome"] as? String == "Created")
        let id = try #require(value(created.json, "order", "id") as? String)
        #expect(id.hasPrefix("ord_"))
        #expect(value(created.json, "order", "status", "stage") as? String == "InProgress")
        #expect(value(created.json, "order", "status", "details", "inProduction") as? String == "NotStarted")
        #expect(value(created.json, "order", "merchantReference") as? String == "M-1")
        #expect(value(created.json, "order", "idempotencyKey") as? String == "idem-1")
        #expect(value(created.json, "order", "items", 0, "assets", 0, "md5Hash") as? String == asset.md5)

        let again = try await vendor.prodigiCreate(account, body)
        #expect(again.status == 200)
        #expect(again.json["outcome"] as? String == "AlreadyExists")
        #expect(value(again.json, "order", "id") as? String == id)

        var changed = body
        changed["shippingMethod"] = "Express"
        let reused = try await vendor.prodigiCreate(account, changed)
        #expect(reused.status == 422)
        #expect(reused.json["outcome"] as? String == "ValidationFailed")
        #expect(value(reused.json, "failures", "idempotencyKey", 0, "code") as? String == "AlreadyUsedWithDifferentPayload")

        let orders = try await vendor.orders(account)
        #expect(orders.count == 1)
        #expect(orders.first?["key"] as? String == "idem-1")
        #expect(orders.first?["reference"] as? String == "M-1")
        #expect(orders.first?["createRequests"] as? Int == 3)
        #expect(value(orders.first, "assets", 0, "checksumOK") as? Bool == true)
        #expect(try await vendor.stats(account)["ordersCreated"] as? Int == 1)
    }

    @Test("merchantReference does not dedupe: two keys are two orders, which the stats call duplicate references")
    func merchantReferenceIsNotAKey() async throws {
        let vendor = try await VendorClient.connect()
        let account = try await vendor.newAccount()
        let asset = try await TestAsset.make()
        for key in ["a", "b"] {
            let response = try await vendor.prodigiCreate(account, Orders.prodigi(key: key, reference: "same", assetURL: asset.url, md5: asset.md5))
            #expect(response.json["outcome"] as? String == "Created")
        }
        let stats = try await vendor.stats(account)
        #expect(stats["ordersCreated"] as? Int == 2)
        #expect(stats["duplicates"] as? Int == 0)
        #expect(stats["duplicateReferences"] as? Int == 1)
        #expect(value(stats, "ordersByReference", "same") as? Int == 2)
    }

    @Test("validation failures and md5 mismatches come back as ValidationFailed with field paths")
    func validation() async throws {
        let vendor = try await VendorClient.connect()
        let account = try await vendor.newAccount()
        let asset = try await TestAsset.make()
        var body = Orders.prodigi(assetURL: asset.url, md5: asset.md5)
        var recipient = body["recipient"] as! [String: any Sendable]
        var address = recipient["address"] as! [String: any Sendable]
        address["postalOrZipCode"] = nil
        recipient["address"] = address
        body["recipient"] = recipient
        let invalid = try await vendor.prodigiCreate(account, body)
        #expect(invalid.status == 400)
        #expect(invalid.json["outcome"] as? String == "ValidationFailed")
        #expect(value(invalid.json, "failures", "recipient.address.postalOrZipCode", 0, "code") as? String == "Required")
        #expect(value(invalid.json, "failures", "recipient.address.postalOrZipCode", 0, "providedValue") is NSNull)

        var noKey = Orders.prodigi(assetURL: asset.url, md5: asset.md5)
        noKey["idempotencyKey"] = nil
        let missingKey = try await vendor.prodigiCreate(account, noKey)
        #expect(missingKey.status == 400)
        #expect(value(missingKey.json, "failures", "idempotencyKey", 0, "code") as? String == "Required")

        let mismatch = try await vendor.prodigiCreate(account, Orders.prodigi(assetURL: asset.url, md5: Checksums.md5(Data("other".utf8))))
        #expect(mismatch.status == 400)
        #expect(value(mismatch.json, "failures", "items[0].assets[0].md5Hash", 0, "code") as? String == "ChecksumMismatch")
        #expect(try await vendor.orders(account).isEmpty)
    }

    @Test("a key in flight gets 409")
    func inFlight() async throws {
        let vendor = try await VendorClient.connect()
        let account = try await vendor.newAccount()
        let data = Checksums.blob()
        let (url, gate) = try await AssetServer.shared().putGated(data)
        let body = Orders.prodigi(assetURL: url, md5: Checksums.md5(data))
        let first = Task { try await vendor.prodigiCreate(account, body) }
        await gate.waitForArrival()
        let second = try await vendor.prodigiCreate(account, body)
        #expect(second.status == 409)
        await gate.open()
        #expect(try await first.value.json["outcome"] as? String == "Created")
        #expect(try await vendor.orders(account).count == 1)
    }

    @Test("lookups show stages, production details and shipments")
    func lookup() async throws {
        let vendor = try await VendorClient.connect()
        let account = try await vendor.newAccount()
        let asset = try await TestAsset.make()
        let created = try await vendor.prodigiCreate(account, Orders.prodigi(assetURL: asset.url, md5: asset.md5))
        let id = try #require(value(created.json, "order", "id") as? String)
        var got = try await vendor.get(account, "/prodigi/v4.0/Orders/\(id)")
        #expect(got.status == 200)
        #expect(got.json["outcome"] as? String == "Ok")
        #expect(value(got.json, "order", "status", "stage") as? String == "InProgress")

        try await vendor.setStatus(account, order: id, ["status": "in_production"])
        got = try await vendor.get(account, "/prodigi/v4.0/Orders/\(id)")
        #expect(value(got.json, "order", "status", "stage") as? String == "InProgress")
        #expect(value(got.json, "order", "status", "details", "inProduction") as? String == "InProgress")

        try await vendor.setStatus(account, order: id, ["status": "shipped", "carrier": "Royal Mail", "trackingNumber": "RM123", "trackingUrl": "https://rm.example/RM123"])
        got = try await vendor.get(account, "/prodigi/v4.0/Orders/\(id)")
        #expect(value(got.json, "order", "status", "stage") as? String == "Complete")
        #expect(value(got.json, "order", "shipments", 0, "carrier", "name") as? String == "Royal Mail")
        #expect(value(got.json, "order", "shipments", 0, "tracking", "number") as? String == "RM123")
        #expect(value(got.json, "order", "shipments", 0, "tracking", "url") as? String == "https://rm.example/RM123")

        try await vendor.setStatus(account, order: id, ["status": "cancelled"])
        got = try await vendor.get(account, "/prodigi/v4.0/Orders/\(id)")
        #expect(value(got.json, "order", "status", "stage") as? String == "Cancelled")

        #expect(try await vendor.get(account, "/prodigi/v4.0/Orders/ord_0").status == 404)
    }
}
