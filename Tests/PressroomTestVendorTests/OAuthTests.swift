import Foundation
import PressroomHTTP
import Testing

/// OAuth2 client credentials and the other ways to authenticate.
@Suite("test vendor: authentication")
struct OAuthTests {
    @Test("a token from the form body or HTTP Basic works as a Bearer token and says its lifetime")
    func issue() async throws {
        let vendor = try await VendorClient.connect()
        let account = try await vendor.newAccount(tokenTTL: 1234)
        let form = Data("grant_type=client_credentials&client_id=\(account.clientId)&client_secret=\(account.clientSecret)&scope=orders".utf8)
        let viaForm = try await vendor.send("POST", "/oauth/token", body: form, contentType: "application/x-www-form-urlencoded")
        #expect(viaForm.status == 200, "\(viaForm.text)")
        #expect(viaForm.json["token_type"] as? String == "Bearer")
        #expect(viaForm.json["expires_in"] as? Int == 1234)
        #expect(viaForm.headers["cache-control"] == "no-store")
        let basic = Data("\(account.clientId):\(account.clientSecret)".utf8).base64EncodedString()
        let viaBasic = try await vendor.send("POST", "/generic/oauth/token", body: Data("grant_type=client_credentials".utf8),
                                             contentType: "application/x-www-form-urlencoded", headers: [("Authorization", "Basic \(basic)")])
        #expect(viaBasic.status == 200, "\(viaBasic.text)")
        for response in [viaForm, viaBasic] {
            let token = try #require(response.json["access_token"] as? String)
            let lookup = try await vendor.send("GET", "/generic/orders/none", headers: [("Authorization", "Bearer \(token)")])
            #expect(lookup.status == 404, "authenticated, then not found")
        }
        #expect(viaForm.json["access_token"] as? String != viaBasic.json["access_token"] as? String)
        #expect(value(try await vendor.stats(account), "requests", "token") as? Int == 2)
    }

    @Test("bad client credentials are 401 invalid_client; other grants are unsupported_grant_type")
    func refusals() async throws {
        let vendor = try await VendorClient.connect()
        let account = try await vendor.newAccount()
        let type = "application/x-www-form-urlencoded"
        let wrongSecret = try await vendor.send("POST", "/oauth/token",
                                                body: Data("grant_type=client_credentials&client_id=\(account.clientId)&client_secret=nope".utf8), contentType: type)
        #expect(wrongSecret.status == 401)
        #expect(wrongSecret.json["error"] as? String == "invalid_client")
        let unknownClient = try await vendor.send("POST", "/oauth/token",
                                                  body: Data("grant_type=client_credentials&client_id=nobody&client_secret=x".utf8), contentType: type)
        #expect(unknownClient.status == 401)
        let password = try await vendor.send("POST", "/oauth/token",
                                             body: Data("grant_type=password&client_id=\(account.clientId)&client_secret=\(account.clientSecret)".utf8), contentType: type)
        #expect(password.status == 400)
        #expect(password.json["error"] as? String == "unsupported_grant_type")
        let json = try await vendor.send("POST", "/oauth/token", body: Data("{}".utf8))
        #expect(json.status == 400)
        #expect(json.json["error"] as? String == "invalid_request")
    }

    @Test("an expired token is refused with 401")
    func expiry() async throws {
        let vendor = try await VendorClient.connect()
        let account = try await vendor.newAccount(tokenTTL: 1)
        let token = try await vendor.token(account)
        let deadline = ContinuousClock.now + .seconds(60)
        var status = 0
        while ContinuousClock.now < deadline {
            status = try await vendor.send("GET", "/generic/orders/none", headers: [("Authorization", "Bearer \(token)")]).status
            if status == 401 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(status == 401)
        // A fresh token works (it lives 1 s: a loaded machine may need a few tries).
        var freshStatus = 0
        for _ in 0..<20 where freshStatus != 404 {
            let fresh = try await vendor.token(account)
            freshStatus = try await vendor.send("GET", "/generic/orders/none", headers: [("Authorization", "Bearer \(fresh)")]).status
        }
        #expect(freshStatus == 404)
    }

    @Test("API keys in either header spelling, static bearer tokens; anything unknown or mixed is 401")
    func credentials() async throws {
        let vendor = try await VendorClient.connect()
        let account = try await vendor.newAccount()
        let other = try await vendor.newAccount()
        let path = "/prodigi/v4.0/Orders/ord_1"
        #expect(try await vendor.send("GET", path, headers: [("X-API-Key", account.apiKey)]).status == 404)
        #expect(try await vendor.send("GET", path, headers: [("X-API-KEY", account.apiKey)]).status == 404)
        #expect(try await vendor.send("GET", path, headers: account.bearerHeader).status == 404)
        for headers: [(name: String, value: String)] in [
            [],
            [("X-API-Key", "unknown")],
            [("Authorization", "Bearer unknown")],
            [("Authorization", "Basic \(Data("a:b".utf8).base64EncodedString())")],
            [("X-API-Key", account.apiKey), ("Authorization", "Bearer \(other.bearerToken)")],
            [("X-API-Key", account.apiKey), ("Authorization", "Bearer unknown")],
        ] {
            let response = try await vendor.send("GET", path, headers: headers)
            #expect(response.status == 401, "\(headers.map(\.name))")
            #expect(response.json["statusCode"] as? Int == 401, "Prodigi's error shape")
        }
        #expect(value(try await vendor.stats(account), "requests", "lookup") as? Int == 3, "refused requests count for no account")
    }
}
