import Foundation
import PressroomHTTP

/// One create or lookup per dialect, as the adapters send them.
extension VendorClient {
    func genericCreate(_ account: VendorAccount, key: String?, _ body: [String: any Sendable],
                       timeout: Duration = .seconds(120)) async throws -> HTTPResponse {
        var headers = account.keyHeader
        if let key { headers.append(("Idempotency-Key", "\"\(key)\"")) }
        return try await send("POST", "/generic/orders", body: JSON(body).data, headers: headers, timeout: timeout)
    }

    func prodigiCreate(_ account: VendorAccount, _ body: [String: any Sendable]) async throws -> HTTPResponse {
        try await send("POST", "/prodigi/v4.0/Orders", body: JSON(body).data, headers: account.keyHeader)
    }

    func printfulCreate(_ account: VendorAccount, _ body: [String: any Sendable], confirm: Bool = true) async throws -> HTTPResponse {
        try await send("POST", "/printful/orders" + (confirm ? "?confirm=1" : ""), body: JSON(body).data, headers: account.bearerHeader)
    }

    func gelatoCreate(_ account: VendorAccount, _ body: [String: any Sendable]) async throws -> HTTPResponse {
        try await send("POST", "/gelato/v4/orders", body: JSON(body).data, headers: [("X-API-KEY", account.apiKey)])
    }

    func get(_ account: VendorAccount, _ path: String) async throws -> HTTPResponse {
        try await send("GET", path, headers: account.keyHeader)
    }
}

/// A fresh asset on the shared asset server and its checksums.
struct TestAsset: Sendable {
    let data: Data
    let url: String
    var sha256: String { Checksums.sha256(data) }
    var md5: String { Checksums.md5(data) }

    static func make(size: Int = 4096) async throws -> TestAsset {
        let data = Checksums.blob(size)
        return TestAsset(data: data, url: try await AssetServer.shared().put(data))
    }
}
