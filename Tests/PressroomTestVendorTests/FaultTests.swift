import Foundation
import PressroomHTTP
import Testing

/// Each fault action, as the adapters will meet it over real HTTP.
@Suite("test vendor: faults")
struct FaultTests {
    @Test("hang-after-accept: the client times out after the order exists; once it hangs up the key replays")
    func hangTimesOut() async throws {
        let vendor = try await VendorClient.connect()
        let account = try await vendor.newAccount()
        let asset = try await TestAsset.make()
        try await vendor.fault(account, ["operation": "create", "action": "hang-after-accept", "holdMs": 120_000])
        let body = Orders.generic(assetURL: asset.url, sha256: asset.sha256)
        let error = await #expect(throws: HTTPClientError.self) {
            try await vendor.genericCreate(account, key: "hang", body, timeout: .seconds(1))
        }
        #expect(error?.code == .timeout)
        try await vendor.waitForStats(account) { $0["ordersCreated"] as? Int == 1 }
        let orderID = try #require(try await vendor.orders(account).first?["id"] as? String)
        let replay = try await eventually { try await vendor.genericCreate(account, key: "hang", body) }
        #expect(replay.status == 201)
        #expect(replay.json["id"] as? String == orderID)
        #expect(try await vendor.orders(account).count == 1)
        #expect(value(try await vendor.stats(account), "faultsApplied", "hang-after-accept") as? Int == 1)
    }

    @Test("hang-after-accept: the key stays in flight (409) during the hold, which ends when the client hangs up")
    func hangHoldsTheKey() async throws {
        let vendor = try await VendorClient.connect()
        let account = try await vendor.newAccount()
        let asset = try await TestAsset.make()
        try await vendor.fault(account, ["operation": "create", "action": "hang-after-accept", "holdMs": 600_000])
        let body = JSON(Orders.generic(assetURL: asset.url, sha256: asset.sha256)).data
        let held = try RawConnection(url: vendor.base, method: "POST", path: "/generic/orders", headers: [
            ("X-API-Key", account.apiKey), ("Content-Type", "application/json"), ("Idempotency-Key", "\"held\""),
        ], body: body)
        try await vendor.waitForStats(account) { $0["ordersCreated"] as? Int == 1 && $0["keysInFlight"] as? Int == 1 }
        let during = try await vendor.send("POST", "/generic/orders", body: body,
                                           headers: account.keyHeader + [("Idempotency-Key", "\"held\"")])
        #expect(during.status == 409)
        held.hangUp()
        try await vendor.waitForStats(account) { $0["keysInFlight"] as? Int == 0 }
        let after = try await vendor.send("POST", "/generic/orders", body: body,
                                          headers: account.keyHeader + [("Idempotency-Key", "\"held\"")])
        #expect(after.status == 201)
        #expect(after.json["id"] as? String == (try await vendor.orders(account).first?["id"] as? String))
        #expect(try await vendor.orders(account).count == 1)
    }

    @Test("hang-after-accept: a client that waits longer than holdMs gets the answer late")
    func hangThenAnswer() async throws {
        let vendor = try await VendorClient.connect()
        let account = try await vendor.newAccount()
        let asset = try await TestAsset.make()
        try await vendor.fault(account, ["operation": "create", "action": "hang-after-accept", "holdMs": 500])
        let started = ContinuousClock.now
        let response = try await vendor.genericCreate(account, key: "late", Orders.generic(assetURL: asset.url, sha256: asset.sha256))
        #expect(response.status == 201)
        #expect(ContinuousClock.now - started >= .milliseconds(500), "the answer waited for the hold")
    }

    /// A client of its own: libcurl re-sends a request by itself when a
    /// *reused* keep-alive connection closes before any response byte, so the
    /// drop is only visible on a fresh connection.
    @Test("drop-after-accept: the order exists but the client gets no response at all")
    func drop() async throws {
        let vendor = try await VendorClient.connect()
        let account = try await vendor.newAccount()
        let asset = try await TestAsset.make()
        try await vendor.fault(account, ["operation": "create", "action": "drop-after-accept"])
        let body = Orders.prodigi(assetURL: asset.url, md5: asset.md5)
        let fresh = try HTTPClient(options: .init(connections: 1, name: "drop-test"))
        let error = await #expect(throws: HTTPClientError.self) {
            try await fresh.perform(HTTPRequest(
                method: "POST", url: vendor.base + "/prodigi/v4.0/Orders",
                headers: account.keyHeader + [("Content-Type", "application/json")], body: .data(JSON(body).data),
                timeout: .seconds(120)))
        }
        #expect(error?.code == .connection)
        #expect(error?.requestSent == true)
        #expect(error?.message.contains("curl error 52") == true, "\(error.map(String.init(describing:)) ?? "")")
        try await vendor.waitForStats(account) { $0["ordersCreated"] as? Int == 1 && $0["keysInFlight"] as? Int == 0 }
        let again = try await vendor.prodigiCreate(account, body)
        #expect(again.json["outcome"] as? String == "AlreadyExists")
        #expect(value(again.json, "order", "id") as? String == (try await vendor.orders(account).first?["id"] as? String))
        let stats = try await vendor.stats(account)
        #expect(stats["ordersCreated"] as? Int == 1)
        #expect(value(stats, "statuses", "200") as? Int == 1, "a dropped answer has no status")
        #expect(value(stats, "faultsApplied", "drop-after-accept") as? Int == 1)
    }

    /// Regression: libcurl re-sends a request whose reused keep-alive
    /// connection closes before any response byte. Against a vendor that does
    /// not dedupe, that silent second POST was a second print order.
    @Test("drop-after-accept on a warm client: the POST is not re-sent behind our back (one Gelato order)")
    func dropOnAReusedConnectionIsNotResent() async throws {
        let vendor = try await VendorClient.connect()
        let account = try await vendor.newAccount()
        let asset = try await TestAsset.make()
        let warm = try HTTPClient(options: .init(connections: 1, name: "drop-warm"))
        let headers = [("X-API-KEY", account.apiKey), ("Content-Type", "application/json")]
        // Two requests over the client's one handle leave a live connection behind.
        for _ in 0..<2 {
            let lookup = try await warm.perform(HTTPRequest(method: "GET", url: vendor.base + "/gelato/v4/orders/none", headers: headers, timeout: .seconds(60)))
            #expect(lookup.status == 404)
        }
        try await vendor.fault(account, ["operation": "create", "action": "drop-after-accept"])
        let error = await #expect(throws: HTTPClientError.self) {
            try await warm.perform(HTTPRequest(
                method: "POST", url: vendor.base + "/gelato/v4/orders", headers: headers,
                body: .data(JSON(Orders.gelato(assetURL: asset.url)).data), timeout: .seconds(120)))
        }
        #expect(error?.code == .connection)
        try await vendor.waitForStats(account) { $0["ordersCreated"] as? Int == 1 && $0["keysInFlight"] as? Int == 0 }
        let stats = try await vendor.stats(account)
        #expect(stats["ordersCreated"] as? Int == 1)
        #expect(stats["duplicates"] as? Int == 0)
    }

    @Test("status faults answer 500 and 503 (with Retry-After when given) and create nothing; then the next request works")
    func statuses() async throws {
        let vendor = try await VendorClient.connect()
        let account = try await vendor.newAccount()
        let asset = try await TestAsset.make()
        try await vendor.control("POST", "/accounts/\(account.id)/faults", JSON(array: [
            ["operation": "create", "action": "status", "status": 500],
            ["operation": "create", "action": "status", "status": 503, "retryAfter": 2],
        ]), expect: 201)
        let body = Orders.generic(assetURL: asset.url, sha256: asset.sha256)
        let first = try await vendor.genericCreate(account, key: "s", body)
        #expect(first.status == 500)
        #expect(first.json["error"] != nil)
        #expect(first.headers["retry-after"] == nil)
        let second = try await vendor.genericCreate(account, key: "s", body)
        #expect(second.status == 503)
        #expect(second.headers["retry-after"] == "2")
        #expect(try await vendor.orders(account).isEmpty)
        #expect(try await AssetServer.shared().hits(asset.url) == 0)
        let third = try await vendor.genericCreate(account, key: "s", body)
        #expect(third.status == 201)
        let stats = try await vendor.stats(account)
        #expect(value(stats, "statuses", "500") as? Int == 1)
        #expect(value(stats, "statuses", "503") as? Int == 1)
        #expect(stats["pendingFaults"] as? Int == 0)

        try await vendor.fault(account, ["operation": "create", "action": "status", "status": 502])
        let prodigi = try await vendor.prodigiCreate(account, Orders.prodigi(assetURL: asset.url, md5: asset.md5))
        #expect(prodigi.status == 502)
        #expect(prodigi.json["statusCode"] as? Int == 502)
        #expect(prodigi.json["traceParent"] is String)
    }

    @Test("rate-limit answers 429 with Retry-After in each dialect's error shape")
    func rateLimit() async throws {
        let vendor = try await VendorClient.connect()
        let account = try await vendor.newAccount()
        let asset = try await TestAsset.make()
        try await vendor.fault(account, ["operation": "create", "action": "rate-limit", "retryAfter": 7, "count": 3])
        let generic = try await vendor.genericCreate(account, key: "r", Orders.generic(assetURL: asset.url, sha256: asset.sha256))
        let printful = try await vendor.printfulCreate(account, Orders.printful(assetURL: asset.url))
        let gelato = try await vendor.gelatoCreate(account, Orders.gelato(assetURL: asset.url))
        for response in [generic, printful, gelato] {
            #expect(response.status == 429)
            #expect(response.headers["retry-after"] == "7")
        }
        #expect(printful.json["code"] as? Int == 429)
        #expect(value(printful.json, "error", "reason") as? String == "TooManyRequests")
        #expect(gelato.json["code"] as? String == "resource_exhausted")
        #expect(try await vendor.orders(account).isEmpty)
        #expect(try await vendor.genericCreate(account, key: "r", Orders.generic(assetURL: asset.url, sha256: asset.sha256)).status == 201)
    }

    @Test("validation faults give each dialect's validation error and no order")
    func validation() async throws {
        let vendor = try await VendorClient.connect()
        let account = try await vendor.newAccount()
        let asset = try await TestAsset.make()
        try await vendor.fault(account, ["operation": "create", "action": "validation", "count": 4])
        let generic = try await vendor.genericCreate(account, key: "v", Orders.generic(assetURL: asset.url, sha256: asset.sha256))
        #expect(generic.status == 400)
        #expect(generic.json["error"] as? String == "validation failed")
        #expect((generic.json["fields"] as? [String: String]) == ["recipient.address.postalCode": "required"])

        let prodigi = try await vendor.prodigiCreate(account, Orders.prodigi(assetURL: asset.url, md5: asset.md5))
        #expect(prodigi.status == 400)
        #expect(prodigi.json["outcome"] as? String == "ValidationFailed")
        let failures = try #require(prodigi.json["failures"] as? [String: [[String: Any]]])
        #expect(Array(failures.keys) == ["recipient.address.postalOrZipCode"])
        #expect(failures["recipient.address.postalOrZipCode"]?.first?["code"] as? String == "Required")
        #expect(failures["recipient.address.postalOrZipCode"]?.first?["providedValue"] is NSNull)

        let printful = try await vendor.printfulCreate(account, Orders.printful(assetURL: asset.url))
        #expect(printful.status == 400)
        #expect(value(printful.json, "error", "reason") as? String == "BadRequest")
        let gelato = try await vendor.gelatoCreate(account, Orders.gelato(assetURL: asset.url))
        #expect(gelato.status == 400)
        #expect(gelato.json["code"] as? String == "validation_error")
        #expect(try await vendor.orders(account).isEmpty)
    }

    @Test("unauthorized: 401 once, then the same credentials work (API key)")
    func unauthorizedOnce() async throws {
        let vendor = try await VendorClient.connect()
        let account = try await vendor.newAccount()
        let asset = try await TestAsset.make()
        try await vendor.fault(account, ["action": "unauthorized"])
        let body = Orders.generic(assetURL: asset.url, sha256: asset.sha256)
        let refused = try await vendor.genericCreate(account, key: "u", body)
        #expect(refused.status == 401)
        #expect(refused.headers["www-authenticate"]?.hasPrefix("Bearer") == true)
        #expect(try await vendor.genericCreate(account, key: "u", body).status == 201)
    }

    @Test("unauthorized revokes the OAuth token in use; a fresh token works")
    func unauthorizedRevokesTokens() async throws {
        let vendor = try await VendorClient.connect()
        let account = try await vendor.newAccount()
        let old = try await vendor.token(account)
        let bearer = { (token: String) in [(name: "Authorization", value: "Bearer \(token)")] }
        #expect(try await vendor.send("GET", "/printful/orders/@x", headers: bearer(old)).status == 404, "authenticated")
        try await vendor.fault(account, ["operation": "lookup", "action": "unauthorized"])
        let refused = try await vendor.send("GET", "/printful/orders/@x", headers: bearer(old))
        #expect(refused.status == 401)
        #expect(refused.json["code"] as? Int == 401)
        #expect(try await vendor.send("GET", "/printful/orders/@x", headers: bearer(old)).status == 401, "the old token is revoked")
        let fresh = try await vendor.token(account)
        #expect(fresh != old)
        #expect(try await vendor.send("GET", "/printful/orders/@x", headers: bearer(fresh)).status == 404)
        #expect(try await vendor.send("GET", "/printful/orders/@x", headers: account.bearerHeader).status == 404, "static bearer tokens stay valid")
    }

    @Test("slow waits delayMs, then handles the request normally")
    func slow() async throws {
        let vendor = try await VendorClient.connect()
        let account = try await vendor.newAccount()
        let asset = try await TestAsset.make()
        try await vendor.fault(account, ["operation": "create", "action": "slow", "delayMs": 400])
        let started = ContinuousClock.now
        let response = try await vendor.gelatoCreate(account, Orders.gelato(assetURL: asset.url))
        #expect(response.status == 200)
        #expect(ContinuousClock.now - started >= .milliseconds(400))
        #expect(value(try await vendor.stats(account), "faultsApplied", "slow") as? Int == 1)
    }

    @Test("faults match their operation, apply count times, in the order they were queued")
    func matchingAndCount() async throws {
        let vendor = try await VendorClient.connect()
        let account = try await vendor.newAccount()
        let asset = try await TestAsset.make()
        try await vendor.control("POST", "/accounts/\(account.id)/faults", JSON(array: [
            ["operation": "lookup", "action": "status", "status": 503, "count": 2],
            ["operation": "any", "action": "status", "status": 500],
        ]), expect: 201)
        let created = try await vendor.genericCreate(account, key: "m", Orders.generic(assetURL: asset.url, sha256: asset.sha256))
        #expect(created.status == 500, "the create skips the lookup fault and takes the any-fault")
        let ok = try await vendor.genericCreate(account, key: "m", Orders.generic(assetURL: asset.url, sha256: asset.sha256))
        #expect(ok.status == 201)
        let id = try #require(ok.json["id"] as? String)
        var statuses: [Int] = []
        for _ in 0..<3 { statuses.append(try await vendor.get(account, "/generic/orders/\(id)").status) }
        #expect(statuses == [503, 503, 200])
        let listed = try #require(try await vendor.control("GET", "/accounts/\(account.id)/faults") as? [String: Any])
        #expect((listed["faults"] as? [Any])?.isEmpty == true)
    }

    @Test("token faults apply to the token endpoint in OAuth's error shape")
    func tokenFaults() async throws {
        let vendor = try await VendorClient.connect()
        let account = try await vendor.newAccount()
        try await vendor.fault(account, ["operation": "token", "action": "status", "status": 503])
        let form = Data("grant_type=client_credentials&client_id=\(account.clientId)&client_secret=\(account.clientSecret)".utf8)
        let refused = try await vendor.send("POST", "/oauth/token", body: form, contentType: "application/x-www-form-urlencoded")
        #expect(refused.status == 503)
        #expect(refused.json["error"] as? String == "temporarily_unavailable")
        _ = try await vendor.token(account)
    }

    @Test("per-account latency delays every API call")
    func latency() async throws {
        let vendor = try await VendorClient.connect()
        let account = try await vendor.newAccount(latencyMs: 300)
        let started = ContinuousClock.now
        #expect(try await vendor.get(account, "/generic/orders/none").status == 404)
        #expect(ContinuousClock.now - started >= .milliseconds(300))
    }
}

/// Retries while the vendor answers 409 (the in-flight window right after a hang-up).
func eventually(timeout: Duration = .seconds(60), _ body: () async throws -> HTTPResponse) async throws -> HTTPResponse {
    let deadline = ContinuousClock.now + timeout
    while true {
        let response = try await body()
        if response.status != 409 || ContinuousClock.now > deadline { return response }
        try await Task.sleep(for: .milliseconds(25))
    }
}
