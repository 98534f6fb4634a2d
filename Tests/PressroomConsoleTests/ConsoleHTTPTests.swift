import Foundation
@testable import PressroomConsole
import PressroomFulfillment
import PressroomQueue
import Testing

/// The console over real HTTP against a real redis-server.
@Suite(.timeLimit(.minutes(5)))
struct ConsoleHTTPTests {
    static let hostile = "<script>alert('x')</script>\"quoted\" & 'single' <img src=x onerror=alert(1)>"

    @Test func hostileValuesAreEscapedEverywhere() async throws {
        let f = try await ConsoleFixture()
        defer { Task { await f.stop() } }
        var payload = Array(#"{"note":"\#(Self.hostile.replacingOccurrences(of: "\"", with: "\\\""))","bad":""#.utf8)
        payload += [0xff, 0xfe, 0xc3]  // invalid UTF-8
        payload += Array(#""}"#.utf8)
        let id = try await f.addDead(jobID: "job-<script>", type: "<b>type</b>", payload: payload, reason: "failed: " + Self.hostile)
        for path in ["/console/dead", "/console/dead/entry?ref=" + FormFields.encode("alpha/\(id)"), "/console/jobs?id=" + FormFields.encode("job-<script>")] {
            let reply = try await f.get(path)
            #expect(reply.status == 200, "\(path)")
            #expect(!reply.body.contains("<script>alert"), "\(path) must not carry the raw script")
            #expect(!reply.body.contains("<img src=x"), "\(path)")
            #expect(!reply.body.contains("<b>type</b>"), "\(path)")
            #expect(reply.body.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;") || reply.body.contains("job-&lt;script&gt;"), "\(path)")
            // Every script element carries this response's nonce, and the CSP names it.
            let csp = try #require(reply.header("Content-Security-Policy"))
            let nonce = try #require(csp.split(separator: "'").first { $0.hasPrefix("nonce-") }).dropFirst("nonce-".count)
            #expect(csp.contains("frame-ancestors 'none'"))
            #expect(reply.body.components(separatedBy: "<script").count - 1 == reply.body.components(separatedBy: "<script nonce=\"\(nonce)\"").count - 1)
            #expect(reply.header("X-Content-Type-Options") == "nosniff")
        }
        let detail = try await f.get("/console/dead/entry?ref=" + FormFields.encode("alpha/\(id)"))
        #expect(detail.body.contains("not valid UTF-8"))
        #expect(detail.body.contains("\u{FFFD}"))
        // Each response gets its own nonce.
        let a = try await f.get("/console/"), b = try await f.get("/console/")
        #expect(a.header("Content-Security-Policy") != b.header("Content-Security-Policy"))
    }

    @Test func authenticationAndRoles() async throws {
        let settings = ConsoleSettings(users: [
            .init(name: "ops", password: "correct horse battery", role: .operator),
            .init(name: "viewer", password: "viewer password 1", role: .viewer),
            .init(name: "robot", token: "robot-token-0123456789", role: .operator),
        ])
        let f = try await ConsoleFixture(settings: settings)
        defer { Task { await f.stop() } }
        let id = try await f.addDead(jobID: "j1")
        func basic(_ user: String, _ password: String) -> [String: String] {
            ["Authorization": "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()]
        }
        let anonymous = try await f.get("/console/")
        #expect(anonymous.status == 401)
        #expect(anonymous.header("WWW-Authenticate")?.hasPrefix("Basic") == true)
        #expect(try await f.get("/console/", headers: basic("ops", "wrong password!!")).status == 401)
        #expect(try await f.get("/console/", headers: basic("viewer", "correct horse battery")).status == 401)
        #expect(try await f.get("/console/", headers: ["Authorization": "Bearer nope-nope-nope"]).status == 401)
        #expect(try await f.get("/console/", headers: basic("ops", "correct horse battery")).status == 200)
        #expect(try await f.get("/console/dead", headers: ["Authorization": "Bearer robot-token-0123456789"]).status == 200)
        // /metrics and the probes stay as they were.
        #expect(try await f.get("/healthz").status == 200)
        // A viewer sees pages without action buttons and cannot write.
        let viewerList = try await f.get("/console/dead", headers: basic("viewer", "viewer password 1"))
        #expect(viewerList.status == 200)
        #expect(!viewerList.body.contains("replay-selected"))
        let viewerWrite = try await f.post("/console/dead/apply", form: [("action", "purge"), ("ref", "alpha/\(id)")],
                                           headers: basic("viewer", "viewer password 1").merging(["Sec-Fetch-Site": "same-origin"]) { a, _ in a })
        #expect(viewerWrite.status == 403)
        #expect(try await f.deadCount() == 1)
        let opsWrite = try await f.post("/console/dead/apply", form: [("action", "purge"), ("ref", "alpha/\(id)")],
                                        headers: basic("ops", "correct horse battery").merging(["Sec-Fetch-Site": "same-origin"]) { a, _ in a })
        #expect(opsWrite.status == 200)
        #expect(try await f.deadCount() == 0)
        // The write was published: who, what, how many.
        let events = StreamEntry.parseEntries(try await f.client.call(["XRANGE", f.keys("alpha").events, "-", "+"]))
        let audit = try #require(events.last.map { Dictionary($0.fields ?? [], uniquingKeysWith: { a, _ in a }) })
        #expect(audit["event"] == "console_action")
        #expect(audit["user"] == "ops")
        #expect(audit["action"] == "dlq_purge")
        #expect(audit["done"] == "1")
        // No secret in the audit event.
        #expect(!events.contains { ($0.fields ?? []).contains { $0.1.contains("correct horse") } })
    }

    @Test func settingsRefuseAnOpenConsoleOffLoopback() throws {
        #expect(throws: ConsoleSettings.Invalid.self) { try ConsoleSettings().validate(host: "0.0.0.0") }
        #expect(throws: ConsoleSettings.Invalid.self) { try ConsoleSettings().validate(host: "10.1.2.3") }
        #expect(throws: ConsoleSettings.Invalid.self) {
            try ConsoleSettings(users: [.init(name: "a", password: "short")]).validate(host: "0.0.0.0")
        }
        try ConsoleSettings().validate(host: "127.0.0.1")
        try ConsoleSettings().validate(host: "::1")
        try ConsoleSettings(users: [.init(name: "a", password: "long enough secret")]).validate(host: "0.0.0.0")
        #expect(ConsoleSettings(refreshSeconds: 0).refreshSeconds == 2)
    }

    @Test func readOnlyAnswers405ToWrites() async throws {
        let f = try await ConsoleFixture(settings: ConsoleSettings(readOnly: true))
        defer { Task { await f.stop() } }
        let id = try await f.addDead(jobID: "j1")
        let list = try await f.get("/console/dead")
        #expect(list.status == 200)
        #expect(!list.body.contains("replay-selected"))
        for path in ["/console/dead/apply", "/console/dead/confirm"] {
            let reply = try await f.post(path, form: [("action", "purge"), ("ref", "alpha/\(id)")], headers: ["Sec-Fetch-Site": "same-origin"])
            #expect(reply.status == 405)
        }
        #expect(try await f.request("DELETE", "/console/dead").status == 405)
        #expect(try await f.deadCount() == 1)
    }

    @Test func writesWithoutSameOriginProofAreRefused() async throws {
        let f = try await ConsoleFixture()
        defer { Task { await f.stop() } }
        let id = try await f.addDead(jobID: "j1")
        let form = [("action", "purge"), ("ref", "alpha/\(id)")]
        #expect(try await f.post("/console/dead/apply", form: form).status == 403)
        #expect(try await f.post("/console/dead/apply", form: form, headers: ["Sec-Fetch-Site": "cross-site"]).status == 403)
        #expect(try await f.post("/console/dead/apply", form: form, headers: ["Origin": "http://evil.example"]).status == 403)
        #expect(try await f.post("/console/dead/apply", form: form + [("csrf", "forged")]).status == 403)
        // A GET never changes anything.
        #expect(try await f.get("/console/dead/apply?action=purge&ref=alpha/\(id)").status == 405)
        #expect(try await f.deadCount() == 1)
        // The page's token, even with a cross-site fetch header, is still refused.
        let page = try await f.get("/console/dead")
        let token = try #require(ConsoleFixture.inputs(named: "csrf", in: page.body).first)
        #expect(try await f.post("/console/dead/apply", form: form + [("csrf", token)], headers: ["Sec-Fetch-Site": "same-site"]).status == 403)
        #expect(try await f.deadCount() == 1)
        // The token alone (no fetch metadata, e.g. an old browser) passes; so does a matching Origin.
        #expect(try await f.post("/console/dead/apply", form: form + [("csrf", token)]).status == 200)
        #expect(try await f.deadCount() == 0)
        let second = try await f.addDead(jobID: "j2")
        let host = f.base.replacingOccurrences(of: "http://", with: "")
        let origin = try await f.post("/console/dead/apply", form: [("action", "purge"), ("ref", "alpha/\(second)")], headers: ["Origin": "http://\(host)"])
        #expect(origin.status == 200)
        #expect(try await f.deadCount() == 0)
    }

    @Test func paginationWalksEveryEntryOnceNewestFirst() async throws {
        let f = try await ConsoleFixture()
        defer { Task { await f.stop() } }
        var pipeline = RESPPipeline()
        for i in 0..<1200 {
            let queue = i % 3 == 0 ? "beta" : "alpha"
            pipeline.append(["XADD", f.keys(queue).dead, "*", "id", "job-\(i)", "type", i % 100 == 7 ? "rare" : "common", "payload", "{}",
                             "dead_reason", "permanent: number \(i)", "dead_error_class", "permanent"])
        }
        _ = try await f.client.send(pipeline)
        var seen: [String] = []
        var path: String? = "/console/dead?limit=100"
        var pages = 0
        while let next = path {
            let reply = try await f.get(next)
            #expect(reply.status == 200)
            let jobs = Self.jobIDs(in: reply.body)
            #expect(jobs.count <= 100)
            seen += jobs
            path = ConsoleFixture.nextLink(in: reply.body)
            pages += 1
            #expect(pages < 30)
            if pages >= 30 { break }
        }
        #expect(seen.count == 1200)
        #expect(Set(seen).count == 1200)
        // Newest first within each queue: job numbers descend.
        for beta in [true, false] {
            let numbers = seen.compactMap { Int($0.dropFirst(4)) }.filter { ($0 % 3 == 0) == beta }
            #expect(numbers == numbers.sorted(by: >))
        }
        // A filter: only matching rows, across pages.
        let rare = try await f.get("/console/dead?type=rare&limit=5")
        #expect(Self.jobIDs(in: rare.body).count == 5)
        #expect(Self.jobIDs(in: rare.body).allSatisfy { Int($0.dropFirst(4))! % 100 == 7 })
        let rest = try await f.get(try #require(ConsoleFixture.nextLink(in: rare.body)))
        #expect(Self.jobIDs(in: rest.body).count == 5)
        let reason = try await f.get("/console/dead?reason=" + FormFields.encode("NUMBER 1199"))
        #expect(Self.jobIDs(in: reason.body) == ["job-1199"])
        // Out-of-range numbers are clamped, not trusted.
        #expect(Self.jobIDs(in: try await f.get("/console/dead?limit=100000000").body).count == 500)
        #expect(try await f.get("/console/?refresh=0").body.contains("data-refresh=\"2\""))
    }

    @Test func bulkActionsActOnTheConfirmedSnapshotWithinTheCap() async throws {
        let f = try await ConsoleFixture(settings: ConsoleSettings(bulkLimit: 100))
        defer { Task { await f.stop() } }
        var pipeline = RESPPipeline()
        for i in 0..<250 {
            pipeline.append(["XADD", f.keys("alpha").dead, "*", "id", "job-\(i)", "type", "thing", "payload", "{}",
                             "dead_reason", i % 2 == 0 ? "transient: timeout" : "permanent: bad", "dead_error_class", "permanent"])
        }
        _ = try await f.client.send(pipeline)
        let same = ["Sec-Fetch-Site": "same-origin"]
        let confirm = try await f.post("/console/dead/confirm", form: [("action", "replay-filter"), ("queue", "alpha"), ("reason", "timeout")], headers: same)
        #expect(confirm.status == 200)
        let refs = ConsoleFixture.inputs(named: "ref", in: confirm.body)
        #expect(refs.count == 100)
        #expect(confirm.body.contains("More entries match"))
        #expect(try await f.deadCount() == 250)  // confirming changes nothing
        // An entry that arrives after the confirmation is not touched.
        let late = try await f.addDead(jobID: "late", reason: "transient: timeout")
        let apply = try await f.post("/console/dead/apply", form: [("action", "replay")] + refs.map { ("ref", $0) }, headers: same)
        #expect(apply.status == 200)
        #expect(apply.body.contains("Replayed 100 of 100"))
        #expect(try await f.deadCount() == 151)
        #expect(Int(try await f.client.call(["XLEN", f.keys("alpha").stream]).int ?? 0) == 100)
        #expect(try await f.client.call(["XRANGE", f.keys("alpha").dead, late, late]).array?.count == 1)
        // Applying the same snapshot again skips what is gone.
        let again = try await f.post("/console/dead/apply", form: [("action", "replay")] + refs.map { ("ref", $0) }, headers: same)
        #expect(again.body.contains("skipped 100"))
        // More references than the cap: the rest is reported, not done.
        let all = StreamEntry.parseEntries(try await f.client.call(["XRANGE", f.keys("alpha").dead, "-", "+"])).map { "alpha/\($0.id)" }
        let capped = try await f.post("/console/dead/apply", form: [("action", "purge")] + all.map { ("ref", $0) }, headers: same)
        #expect(capped.body.contains("51 not attempted"))
        #expect(try await f.deadCount() == 51)
        // Foreign queues and malformed ids are dropped, never passed to Redis.
        let bogus = try await f.post("/console/dead/apply", form: [("action", "purge"), ("ref", "nope/1-1"), ("ref", "alpha/../../x")], headers: same)
        #expect(bogus.body.contains("of 0"))
    }

    /// A partitioned queue: the overview has a row per partition, a dead
    /// letter of partition 2 is listed, shown, looked up and replayed onto it.
    @Test func partitionsAreShownAndTheirDeadLettersReplayed() async throws {
        let f = try await ConsoleFixture(partitions: ["alpha": 3])
        defer { Task { await f.stop() } }
        let p2 = QueueKeys(namespace: f.namespace, queue: "alpha", partition: 2)
        let id = try #require(try await f.client.call(["XADD", p2.dead, "*", "v", "1", "id", "job-p2", "type", "thing", "payload", "{}",
                                                      "dead_reason", "permanent: bad", "dead_error_class", "permanent"]).string)
        let overview = try await f.get("/console")
        #expect(overview.status == 200)
        #expect(overview.body.contains("alpha/2") && overview.body.contains("alpha/1"), "a row per partition")
        let list = try await f.get("/console/dead?queue=alpha")
        #expect(list.body.contains("alpha/2/\(id)"), "the reference names the partition")
        let entry = try await f.get("/console/dead/entry?ref=alpha/2/\(id)")
        #expect(entry.status == 200 && entry.body.contains("job-p2"))
        #expect(try await f.get("/console/jobs?id=job-p2").body.contains("permanent: bad"))
        let apply = try await f.post("/console/dead/apply", form: [("action", "replay"), ("ref", "alpha/2/\(id)")],
                                     headers: ["Sec-Fetch-Site": "same-origin"])
        #expect(apply.body.contains("Replayed 1 of 1"), "\(apply.body)")
        #expect(try await f.client.call(["XLEN", p2.dead]).int == 0)
        #expect(try await f.client.call(["XLEN", p2.stream]).int == 1, "back on the partition it died on")
        let bogus = try await f.post("/console/dead/apply", form: [("action", "purge"), ("ref", "alpha/3/1-1"), ("ref", "beta/1/1-1")],
                                     headers: ["Sec-Fetch-Site": "same-origin"])
        #expect(bogus.body.contains("of 0"), "partitions beyond a queue's are dropped")
    }

    static func jobIDs(in html: String) -> [String] {
        let regex = try! NSRegularExpression(pattern: #"<td class="mono"><a href="[^"]*">(job-[0-9]+)</a></td>"#)
        return regex.matches(in: html, range: NSRange(html.startIndex..., in: html)).map { String(html[Range($0.range(at: 1), in: html)!]) }
    }
}

/// The orders page: the record, the timeline, never the recipient.
@Suite(.timeLimit(.minutes(5)))
struct ConsoleOrdersTests {
    @Test func orderPageShowsTheTimelineButNeverTheRecipient() async throws {
        let f = try await ConsoleFixture(queues: ["fulfill"], ordersQueue: "fulfill")
        defer { Task { await f.stop() } }
        let order = FulfillmentOrder(orderId: "shop-1001", reference: "#1001", shipping: .standard,
                                     recipient: .init(name: "Erika Mustermann", email: "erika@example.com",
                                                      address: .init(lines: ["Heidestraße 17"], city: "Köln", postalCode: "51147", countryCode: "DE")),
                                     items: [.init(product: "print-4x6", quantity: 2, master: "masters/shop-1001/1.tif")])
        let payload = String(decoding: try JSONEncoder().encode(order), as: UTF8.self)
        let store = OrderStore(client: f.client, keys: OrderKeys(queue: f.keys("fulfill")))
        _ = try await store.apply(OrderTransition(target: .received, expected: .create, set: [("payload", payload), ("reference", "#1001")],
                                                  timeline: ["step": "validated", "note": "ship to Erika Mustermann"]), to: "shop-1001")
        _ = try await store.apply(OrderTransition(target: .accepted, set: [("vendor", "printlab"), ("vendor_order_id", "PL-77")]), to: "shop-1001")
        let page = try await f.get("/console/orders?id=shop-1001")
        #expect(page.status == 200)
        #expect(page.body.contains("print-4x6"))
        #expect(page.body.contains("PL-77"))
        #expect(page.body.contains("validated"))
        #expect(page.body.contains("DE"))
        for secret in ["Erika", "Mustermann", "erika@example.com", "Heidestra", "51147", "Köln"] {
            #expect(!page.body.contains(secret), "\(secret) must not be shown")
        }
        #expect(try await f.get("/console/orders?id=nope").body.contains("No order with this id"))
    }
}
