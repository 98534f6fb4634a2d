import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
@testable import PressroomDaemon
import PressroomFulfillment
import PressroomImaging
import PressroomQueue
import PressroomStorage
import Testing

/// The order workflow end to end in real `pressroom` processes: `order` jobs
/// fan out renders (sources and masters in ministack), the fan-in enqueues
/// `fulfill`, the strict test vendor takes the tickets and downloads every
/// master through its presigned URL.
@Suite("order processes")
struct OrderProcessTests {
    /// A vendor account, the worker settings, and source photos in the bucket.
    struct Rig {
        let setup: FulfillmentProcessTests.Setup
        let namespace: String
        let env: [String: String]
        let s3: S3ObjectStore
        let sources: [String]
        let directory: URL
        /// Per-run offset in the crops: this run's masters are its own objects.
        let salt = Double(Int.random(in: 1...9999)) / 1_000_000

        init(redisURL: String? = nil) async throws {
            namespace = "ord-\(UUID().uuidString.prefix(8))"
            setup = try await FulfillmentProcessTests.Setup(adapter: "idempotency-key", redisURL: redisURL)
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("orders-\(namespace)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let policies = try TestPolicies.withSmallProduct(in: directory)
            // The Setup's vendor, printing the small test product too.
            try """
                vendors:
                  lab:
                    adapter: idempotency-key
                    baseURL: \(setup.vendorURL)/generic
                    auth: { kind: api-key, apiKey: env:TEST_VENDOR_KEY }
                    products: { print-4x6: PHOTO-4X6, sticker-small: STICKER-S }
                    countries: { US: { priority: 1 }, GB: { priority: 1 } }
                    maxInFlight: 8
                    timeouts: { connect: 2s, request: 15s }
                    breaker: { failureThreshold: 50, coolDown: 1s }
                """.write(to: setup.vendorsFile, atomically: true, encoding: .utf8)
            let config = directory.appendingPathComponent("pressroom.yaml")
            try """
                queues:
                  derive: { concurrency: 1 }
                  render: { concurrency: 2, claimMinIdle: 1s }
                  fulfill: { concurrency: 8, claimMinIdle: 1s }
                jobs:
                  render: { queue: render, maxAttempts: 8, initialBackoff: 500ms, maxBackoff: 5s, timeout: 2m }
                """.write(to: config, atomically: true, encoding: .utf8)
            var env = setup.env
            env["PRESSROOM_CONFIG"] = config.path
            env["PRESSROOM_IMAGING_POLICIES"] = policies.path
            env["PRESSROOM_LOG_LEVEL"] = "info"
            self.env = env
            let e = ProcessInfo.processInfo.environment
            s3 = try S3ObjectStore(configuration: S3Configuration(
                endpoint: e["PRESSROOM_TEST_MINISTACK_ENDPOINT"]!, region: "us-east-1", bucket: e["PRESSROOM_TEST_MINISTACK_BUCKET"]!,
                addressingStyle: .path, accessKeyID: e["PRESSROOM_TEST_MINISTACK_ACCESS_KEY"]!,
                secretAccessKey: e["PRESSROOM_TEST_MINISTACK_SECRET_KEY"]!), logger: Logger(label: "orders-test"))
            var sources: [String] = []
            for index in 1...8 {
                let key = "uploads/\(namespace)/photo-\(index).jpg"
                let photo = Self.unique(try Data(contentsOf: DaemonProcessTests.fixtures.appendingPathComponent("exif/Landscape_\(index).jpg")), namespace)
                _ = try await s3.putIfAbsent(key, data: photo, contentType: "image/jpeg")
                sources.append(key)
            }
            self.sources = sources
        }

        /// The photo with a JPEG comment naming this run: its own SHA-256, so
        /// its masters (`masters/<sha256>/…`) are this test's alone and no
        /// other test's sweep of a fixture's masters touches them.
        static func unique(_ jpeg: Data, _ tag: String) -> Data {
            let comment = Data("pressroom test \(tag)".utf8)
            var out = Data(jpeg.prefix(2))
            out += [0xFF, 0xFE, UInt8((comment.count + 2) >> 8), UInt8((comment.count + 2) & 0xFF)]
            out += comment
            out += jpeg.dropFirst(2)
            return out
        }

        /// An order of `lines` lines; every line's crop differs, so every master is its own object.
        func payload(_ id: String, number: Int, lines: Int, source: ((Int) -> String)? = nil) -> String {
            let items: [[String: Any]] = (0..<lines).map { line in
                let inset = salt + Double(number * 4 + line) * 0.0005
                return ["source": source?(line) ?? sources[(number + line) % sources.count], "product": "sticker-small", "quantity": 1 + line,
                        "crop": ["x": inset, "y": inset, "width": 1 - 2 * inset, "height": 1 - 2 * inset]]
            }
            let object: [String: Any] = ["orderId": id, "reference": "#\(id)", "shipping": "standard", "recipient": FulfillmentProcessTests.recipient,
                                         "lines": items, "country": "US"]
            return String(decoding: try! JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        }

        func order(_ client: RedisClient, _ id: String) async throws -> OrderRecord? {
            try await OrderStore(client: client, keys: OrderKeys(namespace: namespace), redisPatience: .seconds(5)).read(id)
        }

        /// A worker; `rendering: false` serves only the fulfil queue (a process
        /// serving the render queue without the render type would dead-letter renders).
        func worker(_ consumer: String, redisURL: String? = nil, rendering: Bool = true, config text: String? = nil) throws -> DaemonProcessTests.Daemon {
            var env = self.env
            if let text {
                let config = directory.appendingPathComponent("\(consumer).yaml")
                try text.write(to: config, atomically: true, encoding: .utf8)
                env["PRESSROOM_CONFIG"] = config.path
            } else if !rendering {
                let config = directory.appendingPathComponent("fulfil-only.yaml")
                try "queues:\n  fulfill: { concurrency: 8, claimMinIdle: 1s }\n".write(to: config, atomically: true, encoding: .utf8)
                env["PRESSROOM_CONFIG"] = config.path
            }
            if let redisURL { env["PRESSROOM_REDIS_URL"] = redisURL }
            return try DaemonProcessTests.Daemon(namespace: namespace, consumer: consumer, extraEnv: env)
        }

        /// Every line's master: in the bucket with the checksum the order recorded.
        func checkMasters(_ record: OrderRecord) async throws -> [String] {
            let lines = Int(record.fields["lines"] ?? "") ?? 0
            var keys: [String] = []
            for line in 0..<lines {
                let text = try #require(record.fields["line:\(line):master"], "\(record.id) line \(line) has a master")
                let master = try JSONDecoder().decode(OrderWorkflow.Master.self, from: Data(text.utf8))
                let data = try await s3.get(master.key)
                #expect(Imaging.sha256(data) == master.sha256, "\(master.key) has the recorded checksum")
                #expect(Int64(data.count) == master.bytes)
                keys.append(master.key)
            }
            return keys
        }

        /// What the vendor holds: every order's assets downloaded with matching checksums.
        func vendorOrders() async throws -> [[String: Any]] {
            try await FulfillmentProcessTests.Setup.call(setup.control, "GET", setup.vendorURL + "/_control/accounts/\(setup.account)/orders") as? [[String: Any]] ?? []
        }
    }

    func events(_ client: RedisClient, _ keys: QueueKeys) async throws -> [[String: String]] {
        StreamEntry.parseEntries(try await client.call(["XRANGE", keys.events, "-", "+"])).map { Dictionary($0.fields ?? [], uniquingKeysWith: { a, _ in a }) }
    }

    @Test func fiftyOrdersReachTheVendorOnceEachWithEveryMaster() async throws {
        let rig = try await Rig()
        let redis = RedisClient(endpoint: try RedisEndpoint(url: DaemonProcessTests.redisURL), name: "orders-e2e")
        defer { redis.shutdown() }
        let fulfil = QueueKeys(namespace: rig.namespace, queue: "fulfill")
        let render = QueueKeys(namespace: rig.namespace, queue: "render")
        let a = try rig.worker("orders-a")
        let b = try rig.worker("orders-b")
        try await eventually(timeout: .seconds(60), "workers ready") { a.output.contains("worker ready") && b.output.contains("worker ready") }
        let ids = (0..<50).map { "E\($0)-\(rig.namespace.suffix(4))" }
        var lineCount = 0
        for (number, id) in ids.enumerated() {
            let lines = 1 + number % 4
            lineCount += lines
            let payload = rig.payload(id, number: number, lines: lines)
            try await QueueAdmin.enqueue(keys: fulfil, client: redis, id: "{\(id)}:order", type: "order", payload: payload)
            // A redelivery of the same order (another job id, so it really runs): it must not render twice.
            if number % 5 == 0 {
                try await QueueAdmin.enqueue(keys: fulfil, client: redis, id: "{\(id)}:order-again", type: "order", payload: payload)
            }
        }
        do {
            try await eventually(timeout: .seconds(240), "every order accepted") {
                for id in ids where try await rig.order(redis, id)?.state != .accepted { return false }
                return true
            }
        } catch {
            for id in ids { print(id, try await rig.order(redis, id).map { "\($0.state) \($0.failureReason ?? "")" } ?? "none") }
            print(a.output.suffix(6000))
            throw error
        }
        var masters: [String] = []
        for id in ids {
            #expect(try await rig.setup.created(id) == 1, "\(id): one vendor order")
            let record = try #require(try await rig.order(redis, id))
            masters += try await rig.checkMasters(record)
            let timeline = record.timeline.compactMap { $0["state"] }
            #expect(Array(timeline.prefix(3)) == ["paid", "rendering", "masters_ready"], "\(id): \(timeline)")
            #expect(timeline.contains("submitting") && timeline.last == "accepted", "\(id): \(timeline)")
            #expect(record.timeline.filter { $0["step"] == "render" || $0["line"] != nil }.count == Int(record.fields["lines"] ?? "") ?? -1,
                    "\(id): one render entry per line")
        }
        #expect(Set(masters).count == lineCount, "every line its own master, present once")
        let stats = try await rig.setup.stats()
        #expect((stats["duplicates"] as? NSNumber)?.intValue == 0, "\(stats)")
        #expect((stats["ordersCreated"] as? NSNumber)?.intValue == ids.count)
        let vendorOrders = try await rig.vendorOrders()
        let assets = vendorOrders.flatMap { $0["assets"] as? [[String: Any]] ?? [] }
        #expect(assets.count == lineCount)
        #expect(assets.allSatisfy { ($0["downloaded"] as? Bool) == true && ($0["checksumOK"] as? Bool) == true }, "the vendor downloaded every master")
        // Never rendered twice: one successful run per render job id, each master created once.
        let renders = try await events(redis, render).filter { $0["event"] == "succeeded" }
        #expect(renders.count == lineCount, "\(renders.count) render runs for \(lineCount) lines")
        #expect(Set(renders.compactMap { $0["id"] }).count == lineCount)
        #expect(try await redis.call(["XLEN", render.dead]).int == 0)
        #expect(try await redis.call(["XLEN", fulfil.dead]).int == 0)
        // The sources are kept for retention.orders.
        let ledger = try await redis.call(["HGET", "{\(rig.namespace):lifecycle}:upload:\(rig.sources[0])", "ordered_at"]).string
        #expect(ledger != nil, "ordered_at set on the sources")
        // The cost settled once the order was accepted, and `order show` prints it without the recipient.
        try await eventually(timeout: .seconds(30), "cost settled") { try await rig.order(redis, ids[3])?.fields["cost_cpu_seconds"] != nil }
        let cost = try #require(try await rig.order(redis, ids[3]))
        #expect((Double(cost.fields["cost_cpu_seconds"] ?? "") ?? 0) > 0 && cost.fields["cost_vendor_calls"] == "1")
        #expect((Int(cost.fields["cost_bytes_written"] ?? "") ?? 0) > 0)
        let show = try await DaemonProcessTests().cli(["order", "show", ids[3]], namespace: rig.namespace, env: rig.env)
        #expect(show.output.contains("→ masters_ready") && show.output.contains("rendered in") && show.output.contains("cost:"), "\(show.output)")
        for secret in FulfillmentProcessTests.personal {
            #expect(!show.output.contains(secret))
            #expect(!a.output.contains(secret) && !b.output.contains(secret), "the recipient never reaches a log")
        }
        let costCLI = try await DaemonProcessTests().cli(["cost", "order", ids[3]], namespace: rig.namespace, env: rig.env)
        #expect(costCLI.output.contains("1 vendor calls"), "\(costCLI.output)")
        // The vendor ships one: reconcile (as the timer would) moves the same record on, to the end of its timeline.
        let vendorID = try #require(try await rig.order(redis, ids[1])?.vendorOrderID)
        _ = try await FulfillmentProcessTests.Setup.call(rig.setup.control, "POST", rig.setup.vendorURL + "/_control/accounts/\(rig.setup.account)/orders/\(vendorID)/status",
                                                        ["status": "shipped", "carrier": "UPS", "trackingNumber": "1Z999"])
        try await QueueAdmin.enqueue(keys: fulfil, client: redis, id: "reconcile-1", type: "reconcile", payload: #"{"olderThan":"1ms"}"#)
        try await eventually(timeout: .seconds(60), "shipped") { try await rig.order(redis, ids[1])?.state == .shipped }
        let states = try #require(try await rig.order(redis, ids[1])).timeline.compactMap { $0["state"] }
        #expect(states == ["paid", "rendering", "masters_ready", "routed", "submitting", "accepted", "shipped"], "\(states)")
        a.signal(SIGTERM)
        b.signal(SIGTERM)
        #expect(try await a.waitExit(timeout: .seconds(60)) == 0)
        #expect(try await b.waitExit(timeout: .seconds(60)) == 0)
        try? FileManager.default.removeItem(at: rig.directory)
    }

    /// Validation up front: nothing is recorded or rendered for a bad order.
    @Test func aBadOrderIsRefusedBeforeAnythingRenders() async throws {
        let rig = try await Rig()
        let redis = RedisClient(endpoint: try RedisEndpoint(url: DaemonProcessTests.redisURL), name: "orders-bad")
        defer { redis.shutdown() }
        let fulfil = QueueKeys(namespace: rig.namespace, queue: "fulfill")
        let render = QueueKeys(namespace: rig.namespace, queue: "render")
        let a = try rig.worker("orders-bad")
        try await eventually(timeout: .seconds(60), "ready") { a.output.contains("worker ready") }
        func bad(_ id: String, _ edit: (inout [String: Any]) -> Void) async throws {
            var object = try JSONSerialization.jsonObject(with: Data(rig.payload(id, number: 1, lines: 2).utf8)) as! [String: Any]
            edit(&object)
            try await QueueAdmin.enqueue(keys: fulfil, client: redis, id: "{\(id)}:order", type: "order",
                                         payload: String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self))
        }
        func line(_ object: inout [String: Any], _ key: String, _ value: Any?) {
            var lines = object["lines"] as! [[String: Any]]
            lines[1][key] = value
            object["lines"] = lines
        }
        try await bad("B1") { line(&$0, "product", "poster-a9") }
        try await bad("B2") { line(&$0, "source", nil) }
        try await bad("B3") { line(&$0, "crop", ["x": 0.5, "y": 0, "width": 0.7, "height": 1]) }
        try await bad("B4") { line(&$0, "source", "uploads/\(rig.namespace)/missing.jpg") }
        try await bad("B5") { $0["country"] = "JP" }
        // Probed up front: too small for the product with this crop, and not an image at all.
        try await bad("B6") { line(&$0, "crop", ["x": 0.1, "y": 0.1, "width": 0.3, "height": 0.3]) }
        let broken = "uploads/\(rig.namespace)/broken.jpg"
        _ = try await rig.s3.putIfAbsent(broken, data: try Data(contentsOf: DaemonProcessTests.fixtures.appendingPathComponent("corrupt-header.jpg")),
                                         contentType: "image/jpeg")
        try await bad("B7") { line(&$0, "source", broken) }
        try await eventually(timeout: .seconds(60), "all refused") { try await redis.call(["XLEN", fulfil.dead]).int == 7 }
        let reasons = Dictionary(try await events(redis, fulfil).filter { $0["event"] == "dead_lettered" }.map { ($0["id"] ?? "", $0["error"] ?? "") },
                                 uniquingKeysWith: { a, _ in a })
        #expect(reasons["{B1}:order"]?.contains("lines[1].product: unknown product policy 'poster-a9'") == true, "\(reasons)")
        #expect(reasons["{B2}:order"]?.contains("lines[1].source: is required") == true, "\(reasons)")
        #expect(reasons["{B3}:order"]?.contains("lines[1].crop: outside the image") == true, "\(reasons)")
        #expect(reasons["{B4}:order"]?.contains("lines[1].source: object") == true, "\(reasons)")
        #expect(reasons["{B5}:order"]?.contains("country: 'JP' differs") == true, "\(reasons)")
        #expect(reasons["{B6}:order"]?.contains("lines[1]: effective resolution 90 DPI is below the sticker-small minimum of 150 DPI") == true, "\(reasons)")
        #expect(reasons["{B7}:order"]?.contains("lines[1].source: '\(broken)' is not a usable image") == true, "\(reasons)")
        #expect(try await redis.call(["XLEN", render.stream]).int == 0, "nothing rendered")
        for id in ["B1", "B2", "B3", "B4", "B5", "B6", "B7"] { #expect(try await rig.order(redis, id) == nil) }
        a.signal(SIGTERM)
        #expect(try await a.waitExit(timeout: .seconds(60)) == 0)
    }

    /// A line whose source is broken after the order was taken (replaced by
    /// an undecodable file before its render ran) fails the order naming the
    /// line; the operator puts the photo back and replays the dead letter with
    /// `pressroom dlq replay`: the order re-opens and reaches the vendor.
    @Test func aFailedLineIsReplayedAndTheOrderCompletes() async throws {
        let rig = try await Rig()
        let redis = RedisClient(endpoint: try RedisEndpoint(url: DaemonProcessTests.redisURL), name: "orders-replay")
        defer { redis.shutdown() }
        let fulfil = QueueKeys(namespace: rig.namespace, queue: "fulfill")
        let render = QueueKeys(namespace: rig.namespace, queue: "render")
        let broken = "uploads/\(rig.namespace)/later-broken.jpg"
        let photo = Rig.unique(try Data(contentsOf: DaemonProcessTests.fixtures.appendingPathComponent("exif/Landscape_3.jpg")), "\(rig.namespace)-line1")
        _ = try await rig.s3.putIfAbsent(broken, data: photo, contentType: "image/jpeg")
        // First only a worker that takes orders but does not render: the order is recorded and fanned out.
        let taker = try rig.worker("orders-taker", rendering: false)
        try await eventually(timeout: .seconds(60), "taker ready") { taker.output.contains("worker ready") }
        let id = "P1-\(rig.namespace.suffix(4))"
        try await QueueAdmin.enqueue(keys: fulfil, client: redis, id: "{\(id)}:order", type: "order",
                                     payload: rig.payload(id, number: 7, lines: 3) { $0 == 1 ? broken : rig.sources[$0] })
        try await eventually(timeout: .seconds(60), "rendering") { try await rig.order(redis, id)?.state == .rendering }
        try await rig.s3.delete(broken)
        _ = try await rig.s3.putIfAbsent(broken, data: try Data(contentsOf: DaemonProcessTests.fixtures.appendingPathComponent("corrupt-header.jpg")),
                                         contentType: "image/jpeg")
        let a = try rig.worker("orders-replay")
        do {
            try await eventually(timeout: .seconds(90), "order failed") { try await rig.order(redis, id)?.state == .failed }
        } catch {
            print(try await rig.order(redis, id)?.fields ?? [:], taker.output.suffix(3000), a.output.suffix(5000))
            throw error
        }
        let failed = try #require(try await rig.order(redis, id))
        #expect(failed.failureReason?.hasPrefix("line 1: ") == true, "\(failed.failureReason ?? "")")
        let failedEvent = try await events(redis, fulfil).first { $0["event"] == "order.failed" && $0["id"] == id }
        #expect(failedEvent?["line"] == "1")
        try await eventually(timeout: .seconds(60), "dead letter") { try await redis.call(["XLEN", render.dead]).int == 1 }
        let letters = try await DaemonProcessTests().cli(["dlq", "list", "--json"], namespace: rig.namespace, env: rig.env)
        #expect(letters.output.contains("order \(id) line 1:"), "\(letters.output)")
        // The other lines finish meanwhile; the order stays failed and nothing reached the vendor.
        try await eventually(timeout: .seconds(90), "other lines") {
            let r = try await rig.order(redis, id)
            return r?.fields["line:0:master"] != nil && r?.fields["line:2:master"] != nil
        }
        #expect(try await rig.setup.created(id) == 0)
        // The fix: the photo back under the same key; then the operator's replay.
        try await rig.s3.delete(broken)
        _ = try await rig.s3.putIfAbsent(broken, data: photo, contentType: "image/jpeg")
        let replay = try await DaemonProcessTests().cli(["dlq", "replay", "--all"], namespace: rig.namespace, env: rig.env)
        #expect(replay.status == 0, "\(replay.output)")
        do {
            try await eventually(timeout: .seconds(120), "accepted after the replay") { try await rig.order(redis, id)?.state == .accepted }
        } catch {
            print(a.output.suffix(6000))
            throw error
        }
        #expect(try await rig.setup.created(id) == 1)
        let done = try #require(try await rig.order(redis, id))
        _ = try await rig.checkMasters(done)
        #expect(done.failureReason == nil)
        let states = done.timeline.compactMap { $0["state"] }
        #expect(states.contains("failed") && states.contains("masters_ready") && states.last == "accepted", "\(states)")
        a.signal(SIGTERM)
        taker.signal(SIGTERM)
        #expect(try await a.waitExit(timeout: .seconds(60)) == 0)
        #expect(try await taker.waitExit(timeout: .seconds(60)) == 0)
    }

    /// A render the engine dead-letters without the handler's failure path
    /// running (cut off by the job timeout on its last attempt; no handler for
    /// `render` in the process serving the render queue) still fails its order
    /// naming the line, and replaying the dead letter completes the order.
    func deadLetteredRender(first config: String, reason: String, tag: String) async throws {
        let rig = try await Rig()
        let redis = RedisClient(endpoint: try RedisEndpoint(url: DaemonProcessTests.redisURL), name: "orders-\(tag)")
        defer { redis.shutdown() }
        let fulfil = QueueKeys(namespace: rig.namespace, queue: "fulfill")
        let render = QueueKeys(namespace: rig.namespace, queue: "render")
        let first = try rig.worker("orders-\(tag)-first", config: config)
        try await eventually(timeout: .seconds(60), "first worker ready") { first.output.contains("worker ready") }
        let id = "\(tag)-\(rig.namespace.suffix(4))"
        try await QueueAdmin.enqueue(keys: fulfil, client: redis, id: "{\(id)}:order", type: "order", payload: rig.payload(id, number: 3, lines: 2))
        do {
            try await eventually(timeout: .seconds(90), "order failed") { try await rig.order(redis, id)?.state == .failed }
        } catch {
            print(try await rig.order(redis, id)?.fields ?? [:], first.output.suffix(5000))
            throw error
        }
        let failed = try #require(try await rig.order(redis, id))
        let why = failed.failureReason ?? ""
        #expect(why.hasPrefix("line \(failed.fields["failure_line"] ?? "?"): ") && why.contains(reason), "\(why)")
        #expect(failed.fields["failure_stage"] == "render")
        let failedEvent = try await events(redis, fulfil).first { $0["event"] == "order.failed" && $0["id"] == id }
        #expect(failedEvent?["line"] == failed.fields["failure_line"])
        try await eventually(timeout: .seconds(60), "dead letters") { try await redis.call(["XLEN", render.dead]).int ?? 0 >= 1 }
        #expect(try await rig.setup.created(id) == 0)
        first.signal(SIGTERM)
        #expect(try await first.waitExit(timeout: .seconds(60)) == 0)
        // A worker with the usual render settings, then the operator's replay.
        let second = try rig.worker("orders-\(tag)-second")
        try await eventually(timeout: .seconds(60), "second worker ready") { second.output.contains("worker ready") }
        let replay = try await DaemonProcessTests().cli(["dlq", "replay", "--all"], namespace: rig.namespace, env: rig.env)
        #expect(replay.status == 0, "\(replay.output)")
        do {
            try await eventually(timeout: .seconds(120), "accepted after the replay") { try await rig.order(redis, id)?.state == .accepted }
        } catch {
            print(try await rig.order(redis, id)?.fields ?? [:], second.output.suffix(6000))
            throw error
        }
        #expect(try await rig.setup.created(id) == 1)
        let done = try #require(try await rig.order(redis, id))
        _ = try await rig.checkMasters(done)
        #expect(done.failureReason == nil)
        second.signal(SIGTERM)
        #expect(try await second.waitExit(timeout: .seconds(60)) == 0)
    }

    @Test func aRenderTimedOutOnItsLastAttemptFailsTheOrderAndAReplayCompletesIt() async throws {
        try await deadLetteredRender(first: """
            queues:
              render: { concurrency: 2, claimMinIdle: 1s }
              fulfill: { concurrency: 8, claimMinIdle: 1s }
            jobs:
              render: { queue: render, maxAttempts: 1, timeout: 1ms }
            """, reason: "timed out", tag: "T1")
    }

    @Test func aRenderOfAnUnknownTypeFailsTheOrderAndAReplayCompletesIt() async throws {
        try await deadLetteredRender(first: """
            queues:
              render: { concurrency: 2, claimMinIdle: 1s }
              fulfill: { concurrency: 8, claimMinIdle: 1s }
            """, reason: "unknown job type 'render'", tag: "U1")
    }

    /// Workers SIGKILLed and restarted at random points, and a private
    /// redis-server (AOF, fsync always) restarted once, while 20 orders run:
    /// every order ends accepted (or failed with a reason) within a bound,
    /// with exactly one vendor order each and every master in place.
    @Test func ordersSurviveKilledWorkersAndARedisRestart() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("orders-aof-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let own = DaemonProcessTests.OwnRedis(aofDirectory: dir)
        try await own.start()
        let url = "redis://127.0.0.1:\(own.port)"
        let rig = try await Rig(redisURL: url)
        let redis = RedisClient(endpoint: try RedisEndpoint(url: url), name: "orders-chaos")
        defer { redis.shutdown() }
        let fulfil = QueueKeys(namespace: rig.namespace, queue: "fulfill")
        var generation = 0
        var workers = try (0..<3).map { try rig.worker("chaos-\($0)-0", redisURL: url) }
        try await eventually(timeout: .seconds(90), "workers ready") { workers.allSatisfy { $0.output.contains("worker ready") } }
        // Slow vendor creates, so kills land while tickets are in flight too.
        try await rig.setup.fault(["operation": "create", "action": "slow", "delayMs": 1200, "count": 20])
        let ids = (0..<20).map { "C\($0)-\(rig.namespace.suffix(4))" }
        var lineCount = 0
        func feed(_ range: Range<Int>) async throws {
            for number in range {
                lineCount += 1 + number % 4
                try await QueueAdmin.enqueue(keys: fulfil, client: redis, id: "{\(ids[number])}:order", type: "order",
                                             payload: rig.payload(ids[number], number: number, lines: 1 + number % 4))
            }
        }
        try await feed(0..<10)
        var logs: [String] = []
        for round in 0..<6 {
            if round == 2 { try await feed(10..<20) }
            try await Task.sleep(for: .milliseconds(Int.random(in: 300...2000)))
            if round == 3 {
                await own.kill()
                try await Task.sleep(for: .milliseconds(Int.random(in: 200...1500)))
                try await own.start()
                continue
            }
            generation += 1
            let victim = Int.random(in: 0..<workers.count)
            workers[victim].signal(SIGKILL)
            _ = try await workers[victim].waitExit(timeout: .seconds(30))
            logs.append(workers[victim].output)
            workers[victim] = try rig.worker("chaos-\(victim)-\(generation)", redisURL: url)
        }
        func settled(_ id: String) async -> Bool {
            guard let record = try? await rig.order(redis, id) else { return false }
            return record.state == .accepted || (record.state == .failed && record.failureReason != nil)
        }
        do {
            try await eventually(timeout: .seconds(300), "every order settled") {
                for id in ids where await !settled(id) { return false }
                return true
            }
        } catch {
            for id in ids { print(id, (try? await rig.order(redis, id)).flatMap { $0.map { "\($0.state) \($0.failureReason ?? "")" } } ?? "none") }
            print((logs + workers.map(\.output)).map { String($0.suffix(4000)) }.joined(separator: "\n----\n"))
            throw error
        }
        var masters: [String] = []
        var accepted = 0
        for id in ids {
            let record = try #require(try await rig.order(redis, id))
            let created = try await rig.setup.created(id)
            if record.state == .accepted {
                accepted += 1
                #expect(created == 1, "\(id): one vendor order")
                masters += try await rig.checkMasters(record)
            } else {
                #expect(created == 0, "\(id) failed (\(record.failureReason ?? "")) yet reached the vendor")
            }
        }
        let stats = try await rig.setup.stats()
        #expect((stats["duplicates"] as? NSNumber)?.intValue == 0, "\(stats)")
        #expect((stats["ordersCreated"] as? NSNumber)?.intValue == accepted)
        #expect(Set(masters).count == masters.count, "no master recorded twice")
        // The kills and the restart lose nothing here: every order gets through.
        #expect(accepted == ids.count, "\(accepted) of \(ids.count) accepted")
        let assets = try await rig.vendorOrders().flatMap { $0["assets"] as? [[String: Any]] ?? [] }
        #expect(assets.count == masters.count && assets.allSatisfy { ($0["downloaded"] as? Bool) == true })
        #expect(masters.count == lineCount)
        for worker in workers { worker.signal(SIGTERM) }
        for worker in workers { _ = try await worker.waitExit(timeout: .seconds(60)) }
        try? FileManager.default.removeItem(at: rig.directory)
    }
}
