import Foundation
import PressroomHTTP
import Testing

/// The binary itself: its request log, its refusal to listen off loopback,
/// and concurrency under latency. These start private processes.
@Suite("test vendor: the process")
struct ServerProcessTests {
    @Test("one log line per request with method, path, account, status and ms; never secrets or addresses")
    func requestLog() async throws {
        let process = try await VendorProcess()
        defer { process.stop() }
        let vendor = VendorClient(base: process.url)
        let account = try await vendor.newAccount()
        let asset = try await TestAsset.make()
        let token = try await vendor.token(account)
        let created = try await vendor.send("POST", "/generic/orders",
                                            body: JSON(Orders.generic(assetURL: asset.url, sha256: asset.sha256)).data,
                                            headers: [("Authorization", "Bearer \(token)"), ("Idempotency-Key", "\"log-1\"")])
        #expect(created.status == 201)
        _ = try await vendor.prodigiCreate(account, Orders.prodigi(assetURL: asset.url, md5: asset.md5))
        _ = try await vendor.send("GET", "/generic/orders/none", headers: [("X-API-Key", "wrong-\(account.apiKey)")])

        let deadline = ContinuousClock.now + .seconds(30)
        while !process.log.contains("/generic/orders/none"), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        let lines = process.log.split(separator: "\n").map(String.init)
        let create = try #require(lines.first { $0.contains("POST /generic/orders ") })
        #expect(create.contains("account=\(account.id)"))
        #expect(create.contains("status=201"))
        #expect(create.range(of: "ms=[0-9]+", options: .regularExpression) != nil)
        #expect(lines.contains { $0.contains("POST /oauth/token account=\(account.id) status=200") })
        #expect(lines.contains { $0.contains("GET /generic/orders/none account=- status=401") })
        for secret in [account.apiKey, account.bearerToken, account.clientSecret, token, "Ada Lovelace", "ada@example.com",
                       "Market St", "Downing", "+1 555", "SW1A"] {
            #expect(!process.log.contains(secret), "the log shows \(secret)")
        }
    }

    @Test("it refuses to listen on anything but loopback")
    func loopbackOnly() async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: VendorProcess.binary)
        process.arguments = ["--host", "0.0.0.0", "--port", "0"]
        let stderr = Pipe()
        process.standardError = stderr
        process.standardOutput = Pipe()
        try process.run()
        let output = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus != 0)
        #expect(output.contains("loopback"))
    }

    @Test("it exits when the process that started it goes away (its stdin closes)")
    func exitsWithParent() async throws {
        let process = try await VendorProcess()
        process.closeStdin()
        let deadline = ContinuousClock.now + .seconds(30)
        while process.process.isRunning, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(!process.process.isRunning)
    }

    @Test("32 concurrent creates at 50 ms latency run side by side (figure printed, no threshold)")
    func concurrency() async throws {
        let vendor = try await VendorClient.connect()
        let account = try await vendor.newAccount(latencyMs: 50)
        let asset = try await TestAsset.make()
        let started = ContinuousClock.now
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<32 {
                group.addTask {
                    try await vendor.genericCreate(account, key: "c-\(index)", Orders.generic(assetURL: asset.url, sha256: asset.sha256)).status
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let elapsed = ContinuousClock.now - started
        #expect(statuses == Array(repeating: 201, count: 32))
        #expect(try await vendor.stats(account)["ordersCreated"] as? Int == 32)
        print("test vendor: 32 concurrent creates with 50 ms latency took \(elapsed) (serialised would be ≥ 1.6 s)")

        // Lookups on the now warm connections: the server's own concurrency, without downloads.
        let lookupsStarted = ContinuousClock.now
        let lookups = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<32 {
                group.addTask { try await vendor.get(account, "/generic/orders/none-\(index)").status }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(lookups == Array(repeating: 404, count: 32))
        print("test vendor: 32 concurrent lookups with 50 ms latency took \(ContinuousClock.now - lookupsStarted)")
    }
}
