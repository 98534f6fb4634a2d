import Foundation
import Logging
import PressroomFulfillment
import PressroomHTTP
import PressroomQueue
import PressroomStorage

/// bench/fulfill: print tickets per second through one `pressroom` worker
/// process (running, started by bench/fulfill/run) beside a reference loop
/// of plain libcurl requests (PressroomHTTP, no Redis) making the same vendor
/// calls at the same concurrency against the same test vendor account.
@main
struct FulfillBench {
    static let env = ProcessInfo.processInfo.environment

    static func value(_ name: String) -> String {
        guard let v = env[name], !v.isEmpty else { fatalError("\(name) is not set (run bench/fulfill/run)") }
        return v
    }

    static func main() async throws {
        let tickets = Int(env["BENCH_TICKETS"] ?? "") ?? 3000
        let concurrency = Int(env["BENCH_CONCURRENCY"] ?? "") ?? 32
        let lane = Int(env["BENCH_LANE"] ?? "") ?? concurrency
        let vendorURL = value("BENCH_VENDOR_URL")
        let redis = RedisClient(endpoint: try RedisEndpoint(url: value("BENCH_REDIS_URL")), name: "bench")
        let namespace = value("BENCH_NAMESPACE")
        let store = try S3ObjectStore(configuration: S3Configuration(
            endpoint: value("BENCH_S3_ENDPOINT"), region: "us-east-1", bucket: value("BENCH_S3_BUCKET"), addressingStyle: .path,
            accessKeyID: value("BENCH_S3_ACCESS_KEY"), secretAccessKey: value("BENCH_S3_SECRET_KEY"), connections: lane), logger: Logger(label: "bench"))
        // Four 64 KiB masters, shared by all tickets (the vendor downloads one per create).
        var masters: [String] = []
        let run = UUID().uuidString.prefix(8)
        for i in 0..<4 {
            var bytes = Data(count: 65536)
            for j in 0..<bytes.count { bytes[j] = UInt8(truncatingIfNeeded: j &* 31 &+ i &* 7) }
            let key = "masters/bench/\(run)-\(i).jpg"
            _ = try await store.putIfAbsent(key, data: bytes, contentType: "image/jpeg")
            masters.append(key)
        }
        let http = try HTTPClient(options: .init(connections: 4, name: "bench-control"))

        let processes = CPUSample.processes(env["BENCH_PROCESSES"] ?? "")
        say("tickets: \(tickets) per run, concurrency \(concurrency), vendor latency \(value("BENCH_LATENCY_MS")) ms (generic dialect)")
        var cpu = CPUSample(processes)
        let pressroom = try await runPressroom(tickets: tickets, redis: redis, namespace: namespace, masters: masters)
        let pressroomCPU = cpu.next(tickets: tickets)
        let pressroomStats = try await stats(http, vendorURL, value("BENCH_PRESSROOM_ACCOUNT"))
        // The reference makes the calls a fulfil job makes (HEAD the master, then
        // create), as many tickets at once as the worker's lane, with the same
        // cap of `concurrency` vendor calls in flight (the vendor's maxInFlight).
        let rawHead = try await runRaw(tickets: tickets, workers: lane, vendorConcurrency: concurrency, vendorURL: vendorURL,
                                       apiKey: value("BENCH_RAW_API_KEY"), masters: masters, store: store, headFirst: true)
        let rawHeadCPU = cpu.next(tickets: tickets)
        let rawHeadStats = try await stats(http, vendorURL, value("BENCH_RAW_ACCOUNT"))
        // Profile: creates only (no store request of ours), `concurrency` at a time.
        let raw = try await runRaw(tickets: tickets, workers: concurrency, vendorConcurrency: concurrency, vendorURL: vendorURL,
                                   apiKey: value("BENCH_RAW_API_KEY"), masters: masters, store: store)
        let rawStats = try await stats(http, vendorURL, value("BENCH_RAW_ACCOUNT"))

        func line(_ name: String, _ r: Run, _ s: [String: Any]) {
            let created = (s["ordersCreated"] as? NSNumber)?.intValue ?? -1
            let duplicates = (s["duplicates"] as? NSNumber)?.intValue ?? -1
            say(String(format: "%@: %d tickets in %.2f s = %.1f tickets/s; order-to-accepted p50 %.1f ms, p95 %.1f ms; vendor orders %d, duplicates %d",
                         name, r.count, r.seconds, Double(r.count) / r.seconds, r.p(0.5), r.p(0.95), created, duplicates))
        }
        line("pressroom (1 worker, lane \(env["BENCH_LANE"] ?? "?"), vendor maxInFlight 32)", pressroom, pressroomStats)
        line("raw-http: HEAD + create per ticket, no Redis", rawHead, rawHeadStats)
        line("raw-http: create only (profile)             ", raw, rawStats)
        // CPU per ticket of every process in the loop (the bench itself is the reference's client):
        // on a machine with few cores, what one side burns slows the vendor and store both share.
        say("cpu ms/ticket, pressroom run: \(pressroomCPU)")
        say("cpu ms/ticket, raw HEAD + create run: \(rawHeadCPU)")
        let duplicates = [pressroomStats, rawHeadStats].map { ($0["duplicates"] as? NSNumber)?.intValue ?? -1 }
        let created = (pressroomStats["ordersCreated"] as? NSNumber)?.intValue ?? -1
        guard duplicates[0] == 0, created == tickets else {
            say("FAILED: pressroom made \(created) vendor orders for \(tickets) tickets, \(duplicates[0]) duplicates")
            exit(1)
        }
        say("zero duplicate vendor orders: ok (\(created) orders for \(tickets) tickets)")
        say(String(format: "pressroom/raw-http create-only ticket ratio (profile: the store's HEAD included on one side only): %.2f",
                   (Double(pressroom.count) / pressroom.seconds) / (Double(raw.count) / raw.seconds)))
        say(String(format: "pressroom/raw-http ticket ratio: %.2f", (Double(pressroom.count) / pressroom.seconds) / (Double(rawHead.count) / rawHead.seconds)))
        redis.shutdown()
    }

    struct Run {
        var count: Int
        var seconds: Double
        var latenciesMs: [Double]
        func p(_ q: Double) -> Double {
            let sorted = latenciesMs.sorted()
            guard !sorted.isEmpty else { return .nan }
            return sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))]
        }
    }

    static func stats(_ http: HTTPClient, _ url: String, _ account: String) async throws -> [String: Any] {
        let r = try await http.perform(HTTPRequest(method: "GET", url: "\(url)/_control/accounts/\(account)/stats", timeout: .seconds(10)))
        return (try JSONSerialization.jsonObject(with: r.body) as? [String: Any]) ?? [:]
    }

    nonisolated(unsafe) static let recipient: [String: Any] = [
        "name": "Bench Recipient", "email": "bench@example.org", "phone": "+49 30 0000000",
        "address": ["lines": ["Benchstrasse 1"], "city": "Berlin", "postalCode": "10115", "countryCode": "DE"],
    ]

    /// Enqueues every ticket as a `fulfill` job (one pipelined XADD batch)
    /// and waits until every order is accepted; latency is the order's own
    /// order-to-accepted, from its `order.accepted` event.
    ///
    /// The wait costs the measured machine next to nothing: it polls the
    /// accepted index's size (ZCARD, O(1)) and the dead-letter stream's length
    /// every 50 ms. The events, whose timestamps make the figures, are read
    /// once the run is over; reading all of them while the worker ran (six per
    /// ticket) took a quarter of a millisecond of CPU per ticket from the two
    /// cores the worker runs on.
    static func runPressroom(tickets: Int, redis: RedisClient, namespace: String, masters: [String]) async throws -> Run {
        let keys = QueueKeys(namespace: namespace, queue: "fulfill")
        let acceptedIndex = OrderKeys(queue: keys).index(.accepted)
        let runID = UUID().uuidString.prefix(6)
        let before = try await redis.call(["ZCARD", acceptedIndex]).int ?? 0
        var pipeline = RESPPipeline()
        let start = Date()
        for i in 0..<tickets {
            let id = "B\(runID)-\(i)"
            let payload: [String: Any] = [
                "orderId": id, "reference": "#\(id)", "shipping": "standard", "recipient": recipient,
                "items": [["product": "print-4x6", "quantity": 1, "master": masters[i % masters.count]]],
            ]
            let text = String(decoding: try JSONSerialization.data(withJSONObject: payload), as: UTF8.self)
            pipeline.append(["XADD", keys.stream, "*"] + WireFormat.fields(id: "{\(id)}:fulfill", type: "fulfill", payload: text).flatMap { [$0.0, $0.1] })
        }
        _ = try await redis.send(pipeline)
        var lastSaid = Date()
        while true {
            let done = (try await redis.call(["ZCARD", acceptedIndex]).int ?? 0) - before
            if done >= Int64(tickets) { break }
            if let dead = try await redis.call(["XLEN", keys.dead]).int, dead > 0 {
                let first = try await redis.call(["XRANGE", keys.dead, "-", "+", "COUNT", "1"])
                fatalError("pressroom dead-lettered \(dead) ticket(s), e.g. \(first)")
            }
            if Date().timeIntervalSince(start) > 120 { fatalError("pressroom run stalled at \(done)/\(tickets)") }
            if Date().timeIntervalSince(lastSaid) > 5 { say("waiting: \(done)/\(tickets) accepted"); lastSaid = Date() }
            try await Task.sleep(for: .milliseconds(50))
        }
        var accepted: [String: Double] = [:]
        var latencies: [Double] = []
        var cursor = "-"
        var retries = 0
        scan: while accepted.count < tickets {
            let reply = try await redis.call(["XRANGE", keys.events, cursor, "+", "COUNT", "5000"])
            let entries = StreamEntry.parseEntries(reply)
            guard let last = entries.last else { break scan }
            cursor = "(" + last.id
            for entry in entries {
                let f = Dictionary(entry.fields ?? [], uniquingKeysWith: { a, _ in a })
                if f["event"] == "order.accepted", let id = f["id"], id.hasPrefix("B\(runID)-"), let at = Double(f["at"] ?? "") {
                    accepted[id] = at / 1000 - start.timeIntervalSince1970
                    // The order's own order-to-accepted: from the worker recording it to the vendor's answer recorded.
                    latencies.append(at - (Double(f["created_at"] ?? "") ?? at))
                } else if f["event"] == "retrying" {
                    retries += 1
                    if retries <= 3 { say("warning: retrying \(f["id"] ?? ""): \(f["error"] ?? "")") }
                }
            }
        }
        guard accepted.count == tickets else { fatalError("the events stream holds \(accepted.count) of \(tickets) order.accepted events (it keeps about 100 000 events, six per ticket)") }
        let seconds = accepted.values.max() ?? Date().timeIntervalSince(start)
        return Run(count: tickets, seconds: seconds, latenciesMs: latencies)
    }

    /// The same create requests (generic dialect: POST /generic/orders with an
    /// Idempotency-Key and presigned master URLs): `workers` tickets at a time,
    /// at most `vendorConcurrency` of them in a vendor call.
    static func runRaw(tickets: Int, workers: Int, vendorConcurrency: Int, vendorURL: String, apiKey: String, masters: [String],
                       store: S3ObjectStore, headFirst: Bool = false) async throws -> Run {
        let client = try HTTPClient(options: .init(connections: vendorConcurrency, name: "bench-raw"))
        var assets: [[String: String]] = []
        for key in masters {
            let head = try await store.head(key)!
            let url = try await store.presignedURL(for: key, method: .get, expiresIn: .seconds(3600))
            let sha = Data(base64Encoded: head.checksumSHA256!)!.map { String(format: "%02x", $0) }.joined()
            var asset: [String: String] = ["url": url.absoluteString, "sha256": sha]
            if let md5 = head.md5Hex { asset["md5"] = md5 }
            assets.append(asset)
        }
        let runID = String(UUID().uuidString.prefix(6))
        let finalAssets = assets
        let start = ContinuousClock.now
        let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
            for worker in 0..<workers {
                group.addTask {
                    var mine: [Double] = []
                    var i = worker
                    while i < tickets {
                        let id = "R\(runID)\(headFirst ? "h" : "")-\(i)"
                        let body: [String: Any] = [
                            "reference": "#\(id)", "shipping": "standard", "recipient": recipient,
                            "items": [["sku": "PHOTO-4X6", "quantity": 1, "assets": [finalAssets[i % finalAssets.count]]]],
                        ]
                        let data = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
                        let sent = ContinuousClock.now
                        if headFirst { _ = try await store.head(masters[i % masters.count]) }
                        // Kept-alive connections, as plain libcurl does and as
                        // Pressroom's idempotency-key adapter does: the key
                        // makes a re-sent create the same order.
                        var create = HTTPRequest(method: "POST", url: vendorURL + "/generic/orders", headers: [
                            ("Content-Type", "application/json"), ("Accept", "application/json"), ("X-API-Key", apiKey), ("Idempotency-Key", "\"\(id)\""),
                        ], body: .data(data), timeout: .seconds(30))
                        create.allowsResend = true
                        // The client's `vendorConcurrency` connections are the in-flight limit, as in Pressroom.
                        let response = try await client.perform(create)
                        guard response.status == 201 else { fatalError("raw create answered \(response.status): \(String(decoding: response.body, as: UTF8.self))") }
                        let took = ContinuousClock.now - sent
                        mine.append(Double(took.components.seconds) * 1000 + Double(took.components.attoseconds) / 1e15)
                        i += workers
                    }
                    return mine
                }
            }
            var all: [Double] = []
            for try await part in group { all += part }
            return all
        }
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return Run(count: tickets, seconds: seconds, latenciesMs: latencies)
    }
}

/// Unbuffered line output (stdout to a file is block-buffered).
/// CPU seconds (user + system) of processes from /proc, between two points of the run.
struct CPUSample {
    let processes: [(name: String, pid: String)]
    var last: [Double]

    /// `name=pid name=pid …`; the bench process itself is added as `bench`.
    static func processes(_ spec: String) -> [(name: String, pid: String)] {
        spec.split(separator: " ").compactMap { part -> (String, String)? in
            let pair = part.split(separator: "=", maxSplits: 1)
            return pair.count == 2 ? (String(pair[0]), String(pair[1])) : nil
        } + [("bench", "self")]
    }

    init(_ processes: [(name: String, pid: String)]) {
        self.processes = processes
        self.last = processes.map { Self.seconds($0.pid) }
    }

    static func seconds(_ pid: String) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command: state is field 3, utime 14 and stime 15 (1-based, man 5 proc).
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    mutating func next(tickets: Int) -> String {
        let now = processes.map { Self.seconds($0.pid) }
        defer { last = now }
        return zip(processes, zip(now, last)).map { p, v in String(format: "%@ %.2f", p.name, (v.0 - v.1) * 1000 / Double(tickets)) }
            .joined(separator: ", ")
    }
}

func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
