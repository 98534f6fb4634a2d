import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import PressroomFulfillment
import PressroomHTTP
import PressroomQueue
import PressroomStorage
import Testing

/// Real `pressroom` workers fulfilling orders against the strict test vendor
/// (scripts/services/vendor.sh), with masters in ministack, which verifies the
/// presigned URLs the vendor downloads.
@Suite("fulfilment processes")
struct FulfillmentProcessTests {
    static let adapters = ["idempotency-key", "prodigi", "printful", "gelato"]
    nonisolated(unsafe) static let recipient: [String: Any] = [
        "name": "Grace Brewster Hopper", "email": "grace.hopper@example.net", "phone": "+1 212 555 0199",
        "address": ["lines": ["1400 Defense Pentagon Rd", "Suite 9B"], "city": "Arlingtonshire", "state": "VA", "postalCode": "22202", "countryCode": "US"],
    ]
    static let personal = ["Grace Brewster Hopper", "grace.hopper@example.net", "+1 212 555 0199", "1400 Defense Pentagon Rd", "Suite 9B", "Arlingtonshire"]

    /// One vendor account on the test vendor plus the worker settings that use it.
    struct Setup {
        let vendorURL: String
        let control: HTTPClient
        let account: String
        let apiKey: String
        let token: String
        let webhookSecret = "whsec-\(UUID().uuidString)"
        let vendorsFile: URL
        let env: [String: String]

        init(adapter: String, timeout: String = "15s", redisURL: String? = nil) async throws {
            let environment = ProcessInfo.processInfo.environment
            vendorURL = try #require(environment["PRESSROOM_TEST_VENDOR_URL"], "run scripts/test.sh, or eval \"$(scripts/services/vendor.sh start)\"")
            control = try HTTPClient(options: .init(connections: 2, name: "vendor-control"))
            account = "proc-\(UUID().uuidString.prefix(8))"
            apiKey = "key-\(UUID().uuidString)"
            token = "tok-\(UUID().uuidString)"
            _ = try await Self.call(control, "POST", vendorURL + "/_control/accounts", [
                "id": account, "apiKey": apiKey, "bearerToken": token, "clientId": "c-\(account)", "clientSecret": "cs-\(UUID().uuidString)",
            ])
            let prefix = ["idempotency-key": "generic", "prodigi": "prodigi", "printful": "printful", "gelato": "gelato"][adapter]!
            let auth = adapter == "printful" ? "{ kind: bearer, token: env:TEST_VENDOR_TOKEN }" : "{ kind: api-key, apiKey: env:TEST_VENDOR_KEY }"
            let sku = adapter == "printful" ? "\"4011\"" : "PHOTO-4X6"
            vendorsFile = FileManager.default.temporaryDirectory.appendingPathComponent("vendors-\(account).yaml")
            try """
                vendors:
                  lab:
                    adapter: \(adapter)
                    baseURL: \(vendorURL)/\(prefix)
                    auth: \(auth)
                    products: { print-4x6: \(sku), poster-a2: \(sku) }
                    countries: { US: { priority: 1 }, GB: { priority: 1 } }
                    maxInFlight: 8
                    timeouts: { connect: 2s, request: \(timeout) }
                    breaker: { failureThreshold: 50, coolDown: 1s }
                    webhooks: { verify: timestamped-hmac, secret: env:TEST_WEBHOOK_SECRET }
                """.write(to: vendorsFile, atomically: true, encoding: .utf8)
            func ministack(_ name: String) throws -> String {
                try #require(environment["PRESSROOM_TEST_MINISTACK_\(name)"], "run scripts/test.sh, or eval \"$(scripts/services/ministack.sh start)\"")
            }
            var env: [String: String] = [
                "PRESSROOM_FULFILLMENT_VENDORS": vendorsFile.path,
                "TEST_VENDOR_KEY": apiKey, "TEST_VENDOR_TOKEN": token, "TEST_WEBHOOK_SECRET": webhookSecret,
                "PRESSROOM_STORAGE_BACKEND": "s3", "PRESSROOM_STORAGE_S3_ENDPOINT": try ministack("ENDPOINT"),
                "PRESSROOM_STORAGE_S3_REGION": "us-east-1", "PRESSROOM_STORAGE_S3_BUCKET": try ministack("BUCKET"),
                "PRESSROOM_STORAGE_S3_ADDRESSING_STYLE": "path", "PRESSROOM_STORAGE_S3_ACCESS_KEY_ID": try ministack("ACCESS_KEY"),
                "PRESSROOM_STORAGE_S3_SECRET_ACCESS_KEY": try ministack("SECRET_KEY"),
                "PRESSROOM_IMAGING_POLICIES": DaemonProcessTests.root.appendingPathComponent("config/policies").path,
                "PRESSROOM_IMAGING_PROFILES": DaemonProcessTests.root.appendingPathComponent("config/profiles").path,
                "PRESSROOM_QUEUES_FULFILL_CLAIM_MIN_IDLE": "1s", "PRESSROOM_QUEUES_FULFILL_CONCURRENCY": "8",
                "PRESSROOM_LOG_LEVEL": "debug", "PRESSROOM_LOG_FORMAT": "json",
            ]
            if let redisURL { env["PRESSROOM_REDIS_URL"] = redisURL }
            self.env = env
        }

        static func call(_ client: HTTPClient, _ method: String, _ url: String, _ body: [String: Any]? = nil) async throws -> Any? {
            let data = try body.map { try JSONSerialization.data(withJSONObject: $0) }
            let response = try await client.perform(HTTPRequest(method: method, url: url, headers: [("Content-Type", "application/json")],
                                                                body: data.map { .data($0) } ?? .none, timeout: .seconds(10)))
            #expect((200..<300).contains(response.status), "\(method) \(url): \(response.status)")
            return response.body.isEmpty ? nil : try JSONSerialization.jsonObject(with: response.body, options: [.fragmentsAllowed])
        }

        func fault(_ fault: [String: Any]) async throws {
            _ = try await Self.call(control, "POST", vendorURL + "/_control/accounts/\(account)/faults", fault)
        }

        func stats() async throws -> [String: Any] {
            try await Self.call(control, "GET", vendorURL + "/_control/accounts/\(account)/stats") as? [String: Any] ?? [:]
        }

        func created(_ orderID: String) async throws -> Int {
            let byKey = try await stats()["ordersByKey"] as? [String: Any] ?? [:]
            return (byKey[IdempotencyKey.derive(orderID: orderID, vendor: "lab")] as? NSNumber)?.intValue ?? 0
        }

        /// Uploads a master to ministack and returns a fulfill payload for it.
        func payload(_ orderID: String) async throws -> String {
            let environment = ProcessInfo.processInfo.environment
            let store = try S3ObjectStore(configuration: S3Configuration(
                endpoint: environment["PRESSROOM_TEST_MINISTACK_ENDPOINT"]!, region: "us-east-1", bucket: environment["PRESSROOM_TEST_MINISTACK_BUCKET"]!,
                addressingStyle: .path, accessKeyID: environment["PRESSROOM_TEST_MINISTACK_ACCESS_KEY"]!,
                secretAccessKey: environment["PRESSROOM_TEST_MINISTACK_SECRET_KEY"]!), logger: Logger(label: "masters"))
            let key = "masters/process-tests/\(orderID).jpg"
            _ = try await store.putIfAbsent(key, data: Data("master of \(orderID)".utf8) + Data(repeating: 7, count: 4096), contentType: "image/jpeg")
            let object: [String: Any] = [
                "orderId": orderID, "reference": "#\(orderID)", "shipping": "standard", "recipient": FulfillmentProcessTests.recipient,
                "items": [["product": "print-4x6", "quantity": 2, "master": key]],
            ]
            return String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        }
    }

    func eventsOf(_ client: RedisClient, _ keys: QueueKeys) async throws -> [[String: String]] {
        StreamEntry.parseEntries(try await client.call(["XRANGE", keys.events, "-", "+"])).map { Dictionary($0.fields ?? [], uniquingKeysWith: { a, _ in a }) }
    }

    func succeeded(_ client: RedisClient, _ keys: QueueKeys, _ id: String) async throws -> Bool {
        try await eventsOf(client, keys).contains { $0["event"] == "succeeded" && $0["id"] == id }
    }

    func order(_ client: RedisClient, namespace: String, _ id: String) async throws -> OrderRecord? {
        try await OrderStore(client: client, keys: OrderKeys(namespace: namespace), redisPatience: .seconds(5)).read(id)
    }

    /// SIGKILL in the exact window between the vendor's answer and its record
    /// (and so before the ack): the test-only hook
    /// PRESSROOM_TEST_CRASH_AFTER_VENDOR_ANSWER kills the process there. The
    /// vendor holds the order; Redis holds an intent without a result. The
    /// restarted worker (same consumer name, as systemd restarts pressroom@1)
    /// replays its pending entry, resumes at the vendor and adopts the order.
    @Test(arguments: adapters)
    func aWorkerKilledBetweenTheVendorsAnswerAndTheAckLeavesOneVendorOrder(adapter: String) async throws {
        let namespace = "fkill-\(UUID().uuidString.prefix(8))"
        let keys = QueueKeys(namespace: namespace, queue: "fulfill")
        let setup = try await Setup(adapter: adapter)
        let redis = RedisClient(endpoint: try RedisEndpoint(url: DaemonProcessTests.redisURL), name: "fkill")
        defer { redis.shutdown() }
        let orderID = "K\(UUID().uuidString.prefix(6))"
        var env = setup.env
        env["PRESSROOM_TEST_CRASH_AFTER_VENDOR_ANSWER"] = "lab"
        let victim = try DaemonProcessTests.Daemon(namespace: namespace, consumer: "fulfil-1", extraEnv: env)
        try await eventually(timeout: .seconds(60), "victim ready") { victim.output.contains("worker ready") }
        try await QueueAdmin.enqueue(keys: keys, client: redis, id: "{\(orderID)}:fulfill", type: "fulfill", payload: try await setup.payload(orderID))
        let status = try await victim.waitExit(timeout: .seconds(90))
        #expect(status == 128 + SIGKILL, "killed by the hook")
        #expect(try await setup.created(orderID) == 1, "the vendor has the order")
        let torn = try #require(try await order(redis, namespace: namespace, orderID))
        #expect(torn.state == .submitting && torn.pendingIntent != nil && torn.results.isEmpty, "an intent without a result")
        #expect(try await redis.call(["XPENDING", keys.stream, QueueKeys.group]).array?.first?.int == 1, "not acknowledged")

        let rescuer = try DaemonProcessTests.Daemon(namespace: namespace, consumer: "fulfil-1", extraEnv: setup.env)
        do {
            try await eventually(timeout: .seconds(90), "the job finished") { try await succeeded(redis, keys, "{\(orderID)}:fulfill") }
        } catch {
            print("victim:\n\(victim.output)\nrescuer:\n\(rescuer.output)")
            throw error
        }
        let stats = try await setup.stats()
        #expect(try await setup.created(orderID) == 1, "still exactly one vendor order: \(stats)")
        let done = try #require(try await order(redis, namespace: namespace, orderID))
        #expect(done.state == .accepted && done.pendingIntent == nil && done.vendorOrderID != nil)
        #expect(try await redis.call(["XPENDING", keys.stream, QueueKeys.group]).array?.first?.int == 0)
        #expect(try await redis.call(["XLEN", keys.dead]).int == 0)
        rescuer.signal(SIGTERM)
        #expect(try await rescuer.waitExit() == 0)
    }

    /// The vendor accepts and holds its answer; meanwhile Redis (AOF, fsync
    /// always) is killed and restarted. The worker keeps the vendor's answer
    /// until Redis is back, records it and acknowledges: one vendor order.
    @Test(arguments: adapters)
    func aRedisRestartMidFlightLeavesOneVendorOrder(adapter: String) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("aof-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let own = DaemonProcessTests.OwnRedis(aofDirectory: dir)
        try await own.start()
        let url = "redis://127.0.0.1:\(own.port)"
        let namespace = "faof-\(UUID().uuidString.prefix(8))"
        let keys = QueueKeys(namespace: namespace, queue: "fulfill")
        let setup = try await Setup(adapter: adapter, timeout: "20s", redisURL: url)
        let redis = RedisClient(endpoint: try RedisEndpoint(url: url), name: "faof")
        defer { redis.shutdown() }
        let worker = try DaemonProcessTests.Daemon(namespace: namespace, consumer: "fulfil-aof", extraEnv: setup.env)
        try await eventually(timeout: .seconds(60), "ready") { worker.output.contains("worker ready") }
        // The vendor takes 3 s to answer; Redis is killed as soon as the create
        // arrives and comes back (from its AOF) 1.5 s after the answer.
        try await setup.fault(["operation": "create", "action": "slow", "delayMs": 3000, "count": 1])
        let orderID = "R\(UUID().uuidString.prefix(6))"
        try await QueueAdmin.enqueue(keys: keys, client: redis, id: "{\(orderID)}:fulfill", type: "fulfill", payload: try await setup.payload(orderID))
        try await eventually(timeout: .seconds(60), "the create reached the vendor") {
            ((try await setup.stats()["requests"] as? [String: Any])?["create"] as? NSNumber)?.intValue ?? 0 >= 1
        }
        await own.kill()
        // The vendor answers while Redis is down (polled: a loaded machine is slow).
        try await Task.sleep(for: .milliseconds(4500))
        try await eventually(timeout: .seconds(60), "the vendor created the order") { try await setup.created(orderID) == 1 }
        try await own.start()
        do {
            try await eventually(timeout: .seconds(90), "the job finished") { ((try? await succeeded(redis, keys, "{\(orderID)}:fulfill")) ?? false) }
        } catch {
            print(worker.output)
            throw error
        }
        #expect(try await setup.created(orderID) == 1, "one vendor order across the restart")
        let done = try #require(try await order(redis, namespace: namespace, orderID))
        #expect(done.state == .accepted && done.pendingIntent == nil)
        #expect(try await redis.call(["XLEN", keys.dead]).int == 0)
        worker.signal(SIGTERM)
        #expect(try await worker.waitExit() == 0)
        await own.kill()
    }

    /// Secrets and the recipient's personal data appear in no log line, no
    /// event and no dead letter, whatever happens to the order.
    @Test func secretsAndAddressesNeverLeak() async throws {
        let namespace = "fleak-\(UUID().uuidString.prefix(8))"
        let keys = QueueKeys(namespace: namespace, queue: "fulfill")
        let setup = try await Setup(adapter: "idempotency-key")
        let redis = RedisClient(endpoint: try RedisEndpoint(url: DaemonProcessTests.redisURL), name: "fleak")
        defer { redis.shutdown() }
        let adminPort = try ClusterRedis.freePort()
        var env = setup.env
        env["PRESSROOM_ADMIN_ENABLED"] = "true"
        env["PRESSROOM_ADMIN_PORT"] = String(adminPort)
        env["PRESSROOM_FULFILLMENT_GAUGE_INTERVAL"] = "1s"
        let worker = try DaemonProcessTests.Daemon(namespace: namespace, consumer: "fulfil-leak", extraEnv: env)
        try await eventually(timeout: .seconds(60), "ready") { worker.output.contains("worker ready") }
        // Accepted, rate-limited then accepted, rejected by the vendor, a missing master, a forged webhook.
        let ok = "L1\(UUID().uuidString.prefix(4))", limited = "L2\(UUID().uuidString.prefix(4))", rejected = "L3\(UUID().uuidString.prefix(4))"
        try await QueueAdmin.enqueue(keys: keys, client: redis, id: "{\(ok)}:fulfill", type: "fulfill", payload: try await setup.payload(ok))
        try await eventually(timeout: .seconds(60), "accepted") { try await succeeded(redis, keys, "{\(ok)}:fulfill") }
        try await setup.fault(["operation": "create", "action": "rate-limit", "retryAfter": 1, "count": 1])
        try await QueueAdmin.enqueue(keys: keys, client: redis, id: "{\(limited)}:fulfill", type: "fulfill", payload: try await setup.payload(limited))
        try await eventually(timeout: .seconds(90), "accepted after the rate limit") { try await succeeded(redis, keys, "{\(limited)}:fulfill") }
        try await setup.fault(["operation": "create", "action": "validation", "count": 1])
        try await QueueAdmin.enqueue(keys: keys, client: redis, id: "{\(rejected)}:fulfill", type: "fulfill", payload: try await setup.payload(rejected))
        var missing = try JSONSerialization.jsonObject(with: Data(try await setup.payload("L4").utf8)) as! [String: Any]
        missing["items"] = [["product": "print-4x6", "quantity": 1, "master": "masters/nope/never-rendered.jpg"]]
        try await QueueAdmin.enqueue(keys: keys, client: redis, id: "{L4}:fulfill", type: "fulfill",
                                     payload: String(decoding: try JSONSerialization.data(withJSONObject: missing), as: UTF8.self))
        let forged = #"{"order":{"id":"x","status":"shipped"}}"#
        try await QueueAdmin.enqueue(keys: keys, client: redis, id: "evt-forged", type: "vendor-event", payload: String(decoding: try JSONSerialization.data(withJSONObject: [
            "vendor": "lab", "body": forged, "headers": ["X-Pressroom-Timestamp": "\(Int(Date().timeIntervalSince1970))", "X-Pressroom-Signature": "sha256=00"],
        ]), as: UTF8.self))
        try await eventually(timeout: .seconds(90), "three dead letters") { (try await redis.call(["XLEN", keys.dead]).int ?? 0) >= 3 }

        let dead = StreamEntry.parseEntries(try await redis.call(["XRANGE", keys.dead, "-", "+"])).map { Dictionary($0.fields ?? [], uniquingKeysWith: { a, _ in a }) }
        let reasons = Dictionary(dead.map { ($0["id"] ?? "", $0["dead_reason"] ?? "") }, uniquingKeysWith: { a, _ in a })
        let vendorReason = reasons["{\(rejected)}:fulfill"] ?? ""
        #expect(vendorReason.contains("vendor lab: validation failed") && vendorReason.contains("recipient.address."), "the vendor's message with its field path: \(reasons)")
        #expect(reasons["{L4}:fulfill"]?.contains("items[0].master") == true)
        #expect(reasons["evt-forged"]?.contains("bad signature") == true)
        // Signed webhooks through vendor-event jobs: shipped, then a late in_production (ignored).
        let vendorOrderID = try #require(try await order(redis, namespace: namespace, ok)?.vendorOrderID)
        for (n, status) in ["shipped", "in_production"].enumerated() {
            let body = #"{"order":{"id":"\#(vendorOrderID)","status":"\#(status)","shipment":{"carrier":"DHL","trackingNumber":"JD014600","trackingUrl":"https://dhl.example/JD014600"}}}"#
            let ts = String(Int(Date().timeIntervalSince1970))
            let signature = "sha256=" + WebhookVerifier.hmacHex(Data("\(ts).\(body)".utf8), secret: setup.webhookSecret)
            try await QueueAdmin.enqueue(keys: keys, client: redis, id: "evt-\(n)", type: "vendor-event", payload: String(decoding: try JSONSerialization.data(withJSONObject: [
                "vendor": "lab", "body": body, "headers": ["X-Pressroom-Timestamp": ts, "X-Pressroom-Signature": signature],
            ]), as: UTF8.self))
            try await eventually(timeout: .seconds(60), "webhook \(n) applied") { try await succeeded(redis, keys, "evt-\(n)") }
        }
        let shipped = try #require(try await order(redis, namespace: namespace, ok))
        #expect(shipped.state == .shipped && shipped.shipment?.trackingNumber == "JD014600" && shipped.ignoredTransitions == 1)
        try await Task.sleep(for: .milliseconds(1500))
        let metrics = try await DaemonProcessTests().httpGet("http://127.0.0.1:\(adminPort)/metrics").body
        let lines = metrics.split(separator: "\n").map(String.init)
        func value(_ series: String) -> Double? {
            lines.first { $0.hasPrefix(series + " ") }.flatMap { $0.split(separator: " ").last.flatMap { Double($0) } }
        }
        for series in [#"pressroom_vendor_request_seconds_bucket{vendor="lab",outcome="ok""#, #"pressroom_vendor_request_seconds_bucket{vendor="lab",outcome="rate_limited""#,
                       #"pressroom_order_to_vendor_accepted_seconds_bucket{vendor="lab""#, #"pressroom_vendor_wait_seconds_bucket{vendor="lab""#] {
            #expect(lines.contains { $0.hasPrefix(series) }, "\(series) on /metrics")
        }
        #expect(value(#"pressroom_orders{state="shipped"}"#) == 1, "\(lines.filter { $0.hasPrefix("pressroom_orders") })")
        #expect(value(#"pressroom_order_transitions_ignored_total{state="in_production"}"#) == 1)
        #expect(value(#"pressroom_vendor_breaker_state{vendor="lab"}"#) == 0)
        let check = try await DaemonProcessTests().cli(["config", "check"], namespace: namespace, env: setup.env)
        #expect(check.status == 0 && check.output.contains("****"), "\(check.output.suffix(2000))")
        #expect(!check.output.contains(setup.apiKey) && !check.output.contains(setup.webhookSecret))
        let show = try await DaemonProcessTests().cli(["order", "show", ok], namespace: namespace)
        #expect(show.output.contains("→ accepted") && show.output.contains("intents:"), "\(show.output)")
        // The masters' presigned URLs are credentials until they expire: shown without their signature.
        let shown = try await DaemonProcessTests().cli(["order", "show", ok, "--json"], namespace: namespace)
        #expect(shown.output.contains(#""assets""#) && shown.output.contains("signature not shown"), "\(shown.output)")
        #expect(!shown.output.contains("X-Amz-Signature") && !shown.output.contains("X-Amz-Credential"), "\(shown.output)")

        let events = try await eventsOf(redis, keys).map { $0.values.joined(separator: " ") }.joined(separator: "\n")
        let deadText = dead.map { $0.filter { $0.key != "payload" }.values.joined(separator: " ") }.joined(separator: "\n")
        let log = worker.output
        #expect(log.contains("vendor accepted the order"))
        for secret in [setup.apiKey, setup.token, setup.webhookSecret] + Self.personal {
            #expect(!log.contains(secret), "\(secret) in the worker log")
            #expect(!events.contains(secret), "\(secret) in the events stream")
            #expect(!deadText.contains(secret), "\(secret) in a dead letter's reason or fields")
            #expect(!show.output.contains(secret), "\(secret) in order show")
        }
        worker.signal(SIGTERM)
        #expect(try await worker.waitExit() == 0)
    }
}
