import Foundation
import PressroomFulfillment
import PressroomImaging
import PressroomQueue
import PressroomStorage

/// `pressroom demo`: pushes a sample photo through the whole pipeline of a
/// running daemon — upload → derive → an `order` of two lines → render →
/// fulfil → accepted → shipped (the sandbox vendor's simulated updates) — the
/// way a shop would, with plain XADDs, and prints the quality report, the
/// order's timeline (as `pressroom order show` prints it) and where every
/// output lives. It never runs jobs itself: a daemon must be running.
public struct Demo: Sendable {
    public struct Options: Sendable {
        /// The sample photo (shipped in fixtures/demo with its licence).
        public var photo: String = "fixtures/demo/landscape.jpg"
        /// Makes the demo's keys and ids unique: `demo-<run>`.
        public var run: String = Demo.defaultRun()
        /// The longest the demo waits for one step (the order's updates included).
        public var timeout: Duration = .seconds(300)
        public init() {}
    }

    /// What the demo made, for the caller (and the process test).
    public struct Outcome: Sendable {
        public var orderID: String
        public var finalState: String
        public var upload: String
        public var derivatives: [String]
        public var masters: [String]
        /// The sandbox vendor's ticket file and masters folder, when the order went there.
        public var vendorTicket: String?
        public var vendorMasters: String?
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    public let configuration: PressroomConfiguration
    public let options: Options
    let say: @Sendable (String) -> Void

    public init(configuration: PressroomConfiguration, options: Options = Options(), say: @escaping @Sendable (String) -> Void) {
        self.configuration = configuration
        self.options = options
        self.say = say
    }

    public static func defaultRun() -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        return formatter.string(from: Date()) + "-" + UUID().uuidString.prefix(4).lowercased()
    }

    func queue(of type: String, default fallback: String) -> QueuePartitions {
        configuration.partitions(ofQueue: configuration.jobTypeOptions.first { $0.type == type }?.queue ?? fallback)
    }

    public func run() async throws -> Outcome {
        let client = RedisClient(topology: try configuration.redisTopology, name: "demo")
        defer { client.shutdown() }
        let deriveQueue = queue(of: DeriveJob.type, default: "derive")
        let orderQueue = queue(of: "order", default: FulfillmentJobs.queue)
        let renderQueue = queue(of: RenderJob.type, default: "render")
        try await checkDaemon(client, queues: [deriveQueue, renderQueue, orderQueue])

        // 1. Upload: the shop puts the customer's photo into the store.
        let store: any ObjectStore
        do {
            store = try makeObjectStore(configuration: configuration.storage, logger: .init(label: "pressroom.demo"))
        } catch {
            throw Failure("storage: \(error)")
        }
        guard FileManager.default.fileExists(atPath: options.photo) else {
            throw Failure("no sample photo at \(options.photo) (run the demo from the repository root, or pass --photo)")
        }
        let prefix = configuration.imaging.sourcePrefixes.first ?? "uploads/"
        let upload = "\(prefix)demo/\(options.run).jpg"
        _ = try await store.putIfAbsent(upload, file: URL(fileURLWithPath: options.photo), contentType: "image/jpeg")
        say("1. uploaded \(options.photo) as \(upload)")

        // 2. Derive: thumbnail, preview and the quality report shown before checkout.
        let deriveID = "demo-\(options.run)-derive"
        let derive = deriveQueue.keys(forJob: deriveID)
        let started = Date()
        try await QueueAdmin.enqueue(keys: derive, client: client, id: deriveID, type: DeriveJob.type, payload: Self.json(["source": upload]))
        say("2. enqueued derive \(deriveID) on \(derive.stream); waiting for the preview…")
        let derived = try await waitForJob(client, keys: derive, id: deriveID)
        let outputs = (derived["outputs"] as? [[String: Any]] ?? []).compactMap { $0["key"] as? String }
        say(String(format: "   derived in %.1fs: %@", Date().timeIntervalSince(started), outputs.joined(separator: ", ")))
        if let report = derived["report"], let data = try? JSONSerialization.data(withJSONObject: report),
           let decoded = try? JSONDecoder().decode(QualityReport.self, from: data) {
            say("\n   quality report (what the shop shows before checkout):")
            say(decoded.text(title: upload).split(separator: "\n").map { "   " + $0 }.joined(separator: "\n") + "\n")
        }

        // 3. Order: payment authorised; one job does the rest.
        let orderID = "demo-\(options.run)"
        let orderJob = "{\(orderID)}:order"  // the wire format's id: the order record's slot
        let orders = orderQueue.keys(forJob: orderJob)
        let payload: [String: Any] = [
            "orderId": orderID, "reference": "#DEMO-\(options.run.suffix(4).uppercased())", "shipping": "standard", "country": "DE",
            "recipient": ["name": "Demo Customer", "email": "demo@example.org",
                          "address": ["lines": ["1 Example Street"], "city": "Berlin", "postalCode": "10115", "countryCode": "DE"]],
            "lines": [
                ["source": upload, "product": "print-4x6", "quantity": 1],
                ["source": upload, "product": "print-5x7", "quantity": 2, "crop": ["x": 0.0333, "y": 0.0, "width": 0.9334, "height": 1.0]],
            ],
        ]
        let since = "\(Int64(Date().timeIntervalSince1970 * 1000) - 1)-0"
        try await QueueAdmin.enqueue(keys: orders, client: client, id: orderJob, type: "order", payload: Self.json(payload))
        say("3. enqueued order \(orderID) (2 lines: print-4x6 ×1, print-5x7 ×2) as job \(orderJob) on \(orders.stream)")
        say("   following \(orders.events):")
        let final = try await follow(client, events: orders.events, orderID: orderID, job: orderJob, since: since)

        // 4. The timeline, exactly as `pressroom order show` prints it.
        say("\n4. pressroom order show \(orderID):\n")
        if let shown = try await OrderInspector.show(id: orderID, configuration: configuration, json: false) { say(shown) }

        // 5. Where everything lives.
        let orderKeys = OrderKeys(partitions: orderQueue)
        let orderStore = OrderStore(client: client, keys: orderKeys, redisPatience: .seconds(5))
        let record = try await orderStore.read(orderID)
        let masters = record?.order?.items.map(\.master) ?? []
        var outcome = Outcome(orderID: orderID, finalState: final, upload: upload, derivatives: outputs, masters: masters)
        say("\n5. where the outputs live:")
        say("   upload       \(location(upload))")
        for key in outputs { say("   derivative   \(location(key))") }
        for key in masters { say("   master       \(location(key))") }
        if let vendor = record?.vendor, let settings = configuration.vendors[vendor]?.sandbox {
            let key = IdempotencyKey.derive(orderID: orderID, vendor: vendor)
            let folder = SandboxAdapter.absolute(settings.folder)
            outcome.vendorTicket = "\(folder)/\(key).json"
            outcome.vendorMasters = "\(folder)/\(key)/"
            say("   vendor       \(vendor) (sandbox): ticket \(outcome.vendorTicket!), masters \(outcome.vendorMasters!)")
        } else if let vendor = record?.vendor {
            say("   vendor       \(vendor), order \(record?.vendorOrderID ?? "?")")
        }
        say("   order record \(orderKeys.of(order: orderID).order(orderID)) (HGETALL), timeline \(orderKeys.of(order: orderID).timeline(orderID))")
        say("   events       \(derive.events), \(renderQueue.keys(forJob: "{\(orderID)}:line:0").events), \(orders.events)")
        return outcome
    }

    /// Where an object key is for someone at a shell.
    func location(_ key: String) -> String {
        switch configuration.storage.backend {
        case .filesystem:
            let root = configuration.storage.filesystem?.root ?? "var/objects"
            return "\(key)  (\(SandboxAdapter.absolute(root))/objects/\(key))"
        case .s3:
            return "\(key)  (s3://\(configuration.storage.s3?.bucket ?? "?")/\(key))"
        case .memory:
            return "\(key)  (in the daemon's memory)"
        }
    }

    /// A daemon must be consuming every queue the demo uses.
    func checkDaemon(_ client: RedisClient, queues: [QueuePartitions]) async throws {
        let url = (try? configuration.redisTopology.description) ?? "?"
        do {
            _ = try await client.call(["PING"])
        } catch {
            throw Failure("Redis at \(url) does not answer (\(error)).\nStart the quick start first: scripts/run.sh — then, in another terminal, run this again.")
        }
        for keys in queues {
            let status = try await QueueAdmin.status(of: keys, client: client)
            guard status.liveConsumers > 0 else {
                throw Failure("no pressroom daemon is consuming queue '\(keys.queue)' at \(url).\n" +
                              "Start one with scripts/run.sh (or: .build/release/pressroom run --config config/pressroom.example.yaml), " +
                              "then, in another terminal, run this again.")
            }
        }
    }

    /// Polls the job's state key until it succeeded; a dead letter is an error.
    func waitForJob(_ client: RedisClient, keys: QueueKeys, id: String) async throws -> [String: Any] {
        let deadline = ContinuousClock.now + options.timeout
        while ContinuousClock.now < deadline {
            if let state = try await client.call(["GET", keys.job(id)]).string,
               let json = try? JSONSerialization.jsonObject(with: Data(state.utf8)) as? [String: Any],
               json["status"] as? String == "succeeded" {
                return json["result"] as? [String: Any] ?? [:]
            }
            let recent = StreamEntry.parseEntries(try await client.call(["XREVRANGE", keys.events, "+", "-", "COUNT", "200"]))
            for entry in recent {
                let fields = Dictionary(entry.fields ?? [], uniquingKeysWith: { a, _ in a })
                if fields["id"] == id, fields["event"] == "dead_lettered" {
                    throw Failure("job \(id) was dead-lettered: \(fields["error"] ?? "no reason") (pressroom dlq list --queue \(keys.queue))")
                }
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        throw Failure("job \(id) did not finish within \(DurationText(options.timeout)); is the daemon busy? (pressroom status)")
    }

    /// Prints the order's events as they come, until it ships, fails or is
    /// cancelled (or is accepted, when its vendor sends no later updates).
    func follow(_ client: RedisClient, events: String, orderID: String, job: String, since: String) async throws -> String {
        let updates = configuration.vendors.values.contains { $0.sandbox?.shippedAfter != nil }
        let goal: Set<String> = updates ? ["shipped"] : ["accepted", "shipped"]
        let start = Date()
        var cursor = since
        var lastEvent = ContinuousClock.now
        while ContinuousClock.now - lastEvent < options.timeout {
            let reply = try await client.call(["XREAD", "COUNT", "100", "BLOCK", "1000", "STREAMS", events, cursor])
            guard case .array(let streams) = reply, let stream = streams.first, case .array(let pair) = stream, pair.count == 2 else { continue }
            for entry in StreamEntry.parseEntries(pair[1]) {
                cursor = entry.id
                let fields = Dictionary(entry.fields ?? [], uniquingKeysWith: { a, _ in a })
                if fields["id"] == job, fields["event"] == "dead_lettered" {
                    throw Failure("the order job \(job) was dead-lettered: \(fields["error"] ?? "no reason") (pressroom dlq list --queue \(fields["queue"] ?? "fulfill"))")
                }
                guard fields["id"] == orderID, let event = fields["event"], event.hasPrefix("order.") else { continue }
                lastEvent = .now
                let state = String(event.dropFirst("order.".count))
                var detail = [fields["vendor"], fields["vendor_order_id"], fields["tracking_number"], fields["reason"]].compactMap { $0 }.filter { !$0.isEmpty }
                if let line = fields["line"] { detail.insert("line \(line)", at: 0) }
                say(String(format: "   +%6.1fs  %@", Date().timeIntervalSince(start), ([event] + detail).joined(separator: "  ")))
                if goal.contains(state) || ["failed", "cancelled"].contains(state) {
                    if state == "failed" { say("   the order failed: see the reason above, and pressroom dlq list") }
                    return state
                }
            }
        }
        throw Failure("order \(orderID) showed no progress for \(DurationText(options.timeout)) (pressroom order show \(orderID))")
    }

    static func json(_ object: [String: Any]) -> String {
        String(decoding: (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8), as: UTF8.self)
    }
}
