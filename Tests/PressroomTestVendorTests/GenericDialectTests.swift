import Foundation
import PressroomHTTP
import Testing

/// The IETF Idempotency-Key dialect: create, replay, conflicts, in flight,
/// validation, asset checks and lookups, over real HTTP.
@Suite("test vendor: generic dialect")
struct GenericDialectTests {
    @Test("a create downloads the asset, checks both checksums and answers 201 with the order")
    func create() async throws {
        let vendor = try await VendorClient.connect()
        let account = try await vendor.newAccount()
        let asset = try await TestAsset.make()
        let response = try await vendor.genericCreate(
            account, key: "order-1", Orders.generic(reference: "R-1", assetURL: asset.url, sha256: asset.sha256, md5: asset.md5))
        #expect(response.status == 201, "\(response.text)")
        let id = try #require(response.json["id"] as? String)
        #expect(id.hasPrefix("gen_"))
        #expect(response.json["reference"] as? String == "R-1")
        #expect(response.json["status"] as? String == "received")
        #expect(response.headers["location"] == "/generic/orders/\(id)")

        let orders = try await vendor.orders(account)
        try #require(orders.count == 1)
        #expect(orders[0]["id"] as? String == id)
        #expect(orders[0]["dialect"] as? String == "generic")
        #expect(orders[0]["key"] as? String == "order-1")
        #expect(orders[0]["reference"] as? String == "R-1")
        #expect(orders[0]["status"] as? String == "received")
        #expect(orders[0]["createRequests"] as? Int == 1)
        #expect(value(orders[0], "body", "recipient", "name") as? String == "Ada Lovelace")
        let recorded = try #require(value(orders[0], "assets", 0) as? [String: Any])
        #expect(recorded["url"] as? String == asset.url)
        #expect(recorded["downloaded"] as? Bool == true)
        #expect(recorded["bytes"] as? Int == asset.data.count)
        #expect(recorded["sha256"] as? String == asset.sha256)
        #expect(recorded["md5"] as? String == asset.md5)
        #expect(recorded["checksumOK"] as? Bool == true)
        #expect(try await AssetServer.shared().hits(asset.url) == 1)

        let stats = try await vendor.stats(account)
        #expect(stats["ordersCreated"] as? Int == 1)
        #expect(value(stats, "ordersByKey", "order-1") as? Int == 1)
        #expect(stats["duplicates"] as? Int == 0)
        #expect(value(stats, "requests", "create") as? Int == 1)
        #expect(value(stats, "statuses", "201") as? Int == 1)
    }

    @Test("the same key and body again gets the first answer byte for byte, and no second order")
    func replay() async throws {
        let vendor = try await VendorClient.connect()
        let account = try await vendor.newAccount()
        let asset = try await TestAsset.make()
        let body = Orders.generic(assetURL: asset.url, sha256: asset.sha256)
        let first = try await vendor.genericCreate(account, key: "k", body)
        let second = try await vendor.genericCreate(account, key: "k", body)
        #expect(first.status == 201)
        #expect(second.status == 201)
        #expect(second.body == first.body)
        #expect(second.headers["idempotent-replayed"] == "true")
        let orders = try await vendor.orders(account)
        #expect(orders.count == 1)
        #expect(orders.first?["createRequests"] as? Int == 2)
        #expect(try await AssetServer.shared().hits(asset.url) == 1, "a replay does not download again")
        let stats = try await vendor.stats(account)
        #expect(stats["ordersCreated"] as? Int == 1)
        #expect(value(stats, "ordersByKey", "k") as? Int == 1)
    }

    @Test("the same key with a different body is 422 and changes nothing")
    func conflict() async throws {
        let vendor = try await VendorClient.connect()
        let account = try await vendor.newAccount()
        let asset = try await TestAsset.make()
        #expect(try await vendor.genericCreate(account, key: "k", Orders.generic(reference: "A", assetURL: asset.url, sha256: asset.sha256)).status == 201)
        let reused = try await vendor.genericCreate(account, key: "k", Orders.generic(reference: "B", assetURL: asset.url, sha256: asset.sha256))
        #expect(reused.status == 422)
        #expect(reused.json["error"] as? String == "idempotency key reused with a different payload")
        let orders = try await vendor.orders(account)
        #expect(orders.count == 1)
        #expect(orders.first?["reference"] as? String == "A")
    }

    @Test("a missing or malformed Idempotency-Key is 400")
    func keyRequired() async throws {
        let vendor = try await VendorClient.connect()
        let account = try await vendor.newAccount()
        let asset = try await TestAsset.make()
        let body = JSON(Orders.generic(assetURL: asset.url, sha256: asset.sha256)).data
        let missing = try await vendor.genericCreate(account, key: nil, Orders.generic(assetURL: asset.url, sha256: asset.sha256))
        #expect(missing.status == 400)
        #expect((missing.json["error"] as? String)?.contains("Idempotency-Key") == true)
        for bad in ["bare-token", "\"unterminated", "\"\"", "\"tab\tinside\""] {
            let response = try await vendor.send("POST", "/generic/orders", body: body,
                                                 headers: account.keyHeader + [("Idempotency-Key", bad)])
            #expect(response.status == 400, "Idempotency-Key: \(bad)")
        }
        let escaped = try await vendor.send("POST", "/generic/orders", body: body,
                                            headers: account.keyHeader + [("Idempotency-Key", #""a\"b""#)])
        #expect(escaped.status == 201)
        #expect(try await vendor.orders(account).first?["key"] as? String == #"a"b"#)
    }

    @Test("a second request while the first is still downloading its asset gets 409; afterwards the replay")
    func inFlight() async throws {
        let vendor = try await VendorClient.connect()
        let account = try await vendor.newAccount()
        let data = Checksums.blob()
        let (url, gate) = try await AssetServer.shared().putGated(data)
        let body = Orders.generic(assetURL: url, sha256: Checksums.sha256(data))
        let first = Task { try await vendor.genericCreate(account, key: "busy", body) }
        await gate.waitForArrival()
        let second = try await vendor.genericCreate(account, key: "busy", body)
        #expect(second.status == 409)
        #expect(value(try await vendor.stats(account), "keysInFlight") as? Int == 1)
        await gate.open()
        let answered = try await first.value
        #expect(answered.status == 201)
        let third = try await vendor.genericCreate(account, key: "busy", body)
        #expect(third.status == 201)
        #expect(third.body == answered.body)
        let orders = try await vendor.orders(account)
        #expect(orders.count == 1)
        #expect(orders.first?["createRequests"] as? Int == 3)
        #expect(value(try await vendor.stats(account), "statuses", "409") as? Int == 1)
    }

    @Test("validation names every bad field, including unknown ones, and creates nothing")
    func validation() async throws {
        let vendor = try await VendorClient.connect()
        let account = try await vendor.newAccount()
        let asset = try await TestAsset.make()
        var body = Orders.generic(assetURL: asset.url, sha256: asset.sha256, postalCode: nil)
        body["shipping"] = "teleport"
        body["giftWrap"] = true
        let response = try await vendor.genericCreate(account, key: "v", body)
        #expect(response.status == 400)
        #expect(response.json["error"] as? String == "validation failed")
        let fields = try #require(response.json["fields"] as? [String: String])
        #expect(fields["recipient.address.postalCode"] == "required")
        #expect(fields["shipping"]?.contains("budget") == true)
        #expect(fields["giftWrap"] == "unknown field")
        #expect(try await vendor.orders(account).isEmpty)
        #expect(try await AssetServer.shared().hits(asset.url) == 0, "nothing is downloaded for an invalid body")

        let wrongType = try await vendor.send("POST", "/generic/orders", body: JSON(body).data, contentType: "text/plain",
                                              headers: account.keyHeader + [("Idempotency-Key", "\"v\"")])
        #expect(wrongType.status == 415)
        let notJSON = try await vendor.send("POST", "/generic/orders", body: Data("{".utf8),
                                            headers: account.keyHeader + [("Idempotency-Key", "\"v\"")])
        #expect(notJSON.status == 400)
    }

    @Test("a checksum mismatch is refused naming the asset; the key is free for a corrected request")
    func checksumMismatch() async throws {
        let vendor = try await VendorClient.connect()
        let account = try await vendor.newAccount()
        let asset = try await TestAsset.make()
        let wrong = Checksums.sha256(Data("something else".utf8))
        let refused = try await vendor.genericCreate(account, key: "c", Orders.generic(reference: "C", assetURL: asset.url, sha256: wrong))
        #expect(refused.status == 400)
        let fields = try #require(refused.json["fields"] as? [String: String])
        #expect(fields["items[0].assets[0].sha256"]?.contains(asset.sha256) == true, "\(fields)")
        let md5Refused = try await vendor.genericCreate(
            account, key: "c", Orders.generic(reference: "C", assetURL: asset.url, sha256: nil, md5: Checksums.md5(Data("x".utf8))))
        #expect(md5Refused.status == 400)
        #expect((md5Refused.json["fields"] as? [String: String])?["items[0].assets[0].md5"] != nil)
        #expect(try await vendor.orders(account).isEmpty)

        // Base64 digests are accepted as well as hex.
        let fixed = try await vendor.genericCreate(
            account, key: "c", Orders.generic(reference: "C", assetURL: asset.url, sha256: Checksums.sha256Base64(asset.data)))
        #expect(fixed.status == 201, "\(fixed.text)")
        #expect(try await vendor.orders(account).count == 1)
    }

    @Test("assets that cannot be downloaded, or live off loopback, are refused without an order")
    func downloadFailures() async throws {
        let vendor = try await VendorClient.connect()
        let account = try await vendor.newAccount()
        let server = try await AssetServer.shared()
        let sha = Checksums.sha256(Data())
        for (url, expected) in [
            (server.url("forbidden/master.tif"), "HTTP 403"),
            (server.url("missing-\(UUID().uuidString)"), "HTTP 404"),
            ("http://127.0.0.1:1/unreachable.tif", "download failed"),
            ("http://192.0.2.10/master.tif", "not a loopback address"),
            ("http://example.com/master.tif", "not a loopback address"),
        ] {
            let response = try await vendor.genericCreate(account, key: UUID().uuidString, Orders.generic(assetURL: url, sha256: sha))
            #expect(response.status == 400, "\(url)")
            let problem = (response.json["fields"] as? [String: String])?["items[0].assets[0].url"]
            #expect(problem?.contains(expected) == true, "\(url): \(response.text)")
        }
        #expect(try await vendor.orders(account).isEmpty)
        #expect(server.hits(server.url("forbidden/master.tif")) >= 1)
    }

    @Test("lookups show the status and the shipment set through the control API")
    func lookup() async throws {
        let vendor = try await VendorClient.connect()
        let account = try await vendor.newAccount()
        let asset = try await TestAsset.make()
        let created = try await vendor.genericCreate(account, key: "l", Orders.generic(assetURL: asset.url, sha256: asset.sha256))
        let id = try #require(created.json["id"] as? String)
        var got = try await vendor.get(account, "/generic/orders/\(id)")
        #expect(got.status == 200)
        #expect(got.json["status"] as? String == "received")
        #expect(got.json["shipment"] == nil)

        try await vendor.setStatus(account, order: id, ["status": "in_production"])
        got = try await vendor.get(account, "/generic/orders/\(id)")
        #expect(got.json["status"] as? String == "in_production")

        try await vendor.setStatus(account, order: id, [
            "status": "shipped", "carrier": "UPS", "trackingNumber": "1Z999", "trackingUrl": "https://ups.example/1Z999",
        ])
        got = try await vendor.get(account, "/generic/orders/\(id)")
        #expect(got.json["status"] as? String == "shipped")
        #expect(value(got.json, "shipment", "carrier") as? String == "UPS")
        #expect(value(got.json, "shipment", "trackingNumber") as? String == "1Z999")
        #expect(value(got.json, "shipment", "trackingUrl") as? String == "https://ups.example/1Z999")

        try await vendor.setStatus(account, order: id, ["status": "cancelled"])
        #expect(try await vendor.get(account, "/generic/orders/\(id)").json["status"] as? String == "cancelled")

        let missing = try await vendor.get(account, "/generic/orders/gen_nope")
        #expect(missing.status == 404)
        #expect(value(try await vendor.stats(account), "requests", "lookup") as? Int == 5)
    }
}
