import Foundation
import Logging
import PressroomAdmin
@testable import PressroomConsole
import PressroomHTTP
import PressroomQueue
import Testing

/// A console on a kernel-picked admin port over a fresh namespace of the
/// test redis-server (scripts/services/redis.sh).
final class ConsoleFixture: Sendable {
    let namespace: String
    let queues: [String]
    let client: RedisClient
    let server: AdminServer
    let base: String
    private let task: Task<Void, Never>

    static var endpoint: RedisEndpoint {
        try! RedisEndpoint(url: ProcessInfo.processInfo.environment["PRESSROOM_TEST_REDIS_URL"] ?? "redis://127.0.0.1:6399")
    }

    static var logger: Logger {
        var logger = Logger(label: "console-test")
        logger.logLevel = .warning
        return logger
    }

    /// - Parameter partitions: per queue, when more than one.
    init(_ name: String = #function, queues: [String] = ["alpha", "beta"], settings: ConsoleSettings = ConsoleSettings(), ordersQueue: String? = nil,
         partitions: [String: Int] = [:]) async throws {
        namespace = "t-\(name.filter { $0.isLetter || $0.isNumber }.prefix(20))-\(UUID().uuidString.prefix(8))"
        self.queues = queues
        client = RedisClient(endpoint: Self.endpoint, name: "console-test")
        _ = try await client.call(["PING"])
        let namespace = self.namespace
        let layouts = queues.map { QueuePartitions(namespace: namespace, queue: $0, count: partitions[$0] ?? 1) }
        for keys in layouts.flatMap(\.all) {
            try await QueueAdmin.ensureGroup(keys: keys, client: client)
        }
        let source = ConsoleSource(namespace: namespace, queues: queues, client: client, ordersQueue: ordersQueue, partitions: layouts)
        let console = try ConsoleHandler(settings: settings, source: source, logger: Self.logger)
        server = try AdminServer(configuration: .init(host: "127.0.0.1", port: 0), metrics: PressroomMetrics(),
                                 readiness: { Readiness(checks: []) }, console: console, logger: Self.logger)
        let server = self.server
        task = Task { try? await server.run() }
        let port = try await server.waitUntilListening(timeout: .seconds(60))
        base = "http://127.0.0.1:\(port)"
    }

    func stop() async {
        task.cancel()
        await task.value
        client.shutdown()
    }

    func keys(_ queue: String) -> QueueKeys { QueueKeys(namespace: namespace, queue: queue) }

    /// Adds a dead letter as the engine writes them; returns its entry id.
    @discardableResult
    func addDead(queue: String = "alpha", jobID: String, type: String = "thing", payload: [UInt8] = Array(#"{"n":1}"#.utf8),
                 reason: String = "permanent: broken", errorClass: String = "permanent") async throws -> String {
        let args: [[UInt8]] = [Array("XADD".utf8), Array(keys(queue).dead.utf8), Array("*".utf8),
                               Array("v".utf8), Array("1".utf8), Array("id".utf8), Array(jobID.utf8), Array("type".utf8), Array(type.utf8),
                               Array("payload".utf8), payload, Array("original_id".utf8), Array("1-1".utf8),
                               Array("queue".utf8), Array(queue.utf8), Array("dead_reason".utf8), Array(reason.utf8),
                               Array("dead_error_class".utf8), Array(errorClass.utf8), Array("attempts".utf8), Array("1".utf8),
                               Array("consumer".utf8), Array("worker-1".utf8)]
        guard let id = try await client.sendBytes(args).string else { throw CancellationError() }
        return id
    }

    func deadCount(_ queue: String = "alpha") async throws -> Int {
        Int(try await client.call(["XLEN", keys(queue).dead]).int ?? -1)
    }

    struct Reply {
        var status: Int
        var headers: [String: String]
        var body: String
        func header(_ name: String) -> String? {
            headers.first { $0.key.lowercased() == name.lowercased() }?.value
        }
    }

    func get(_ path: String, headers: [String: String] = [:]) async throws -> Reply {
        try await request("GET", path, headers: headers)
    }

    func post(_ path: String, form: [(String, String)], headers: [String: String] = [:]) async throws -> Reply {
        let body = FormFields.query(form.map { ($0.0, Optional($0.1)) })
        return try await request("POST", path, body: Data(body.utf8),
                                 headers: headers.merging(["Content-Type": "application/x-www-form-urlencoded"]) { a, _ in a })
    }

    static let http = try! PressroomHTTP.HTTPClient()

    func request(_ method: String, _ path: String, body: Data? = nil, headers: [String: String] = [:]) async throws -> Reply {
        let request = PressroomHTTP.HTTPRequest(method: method, url: base + path, headers: headers.map { (name: $0.key, value: $0.value) },
                                                body: body.map { .data($0) } ?? .none, timeout: .seconds(60))
        let response = try await Self.http.perform(request)
        return Reply(status: response.status, headers: response.headers, body: String(decoding: response.body, as: UTF8.self))
    }

    /// Values of `<input … name="NAME" value="…">` (HTML-unescaped) in a page.
    static func inputs(named name: String, in html: String) -> [String] {
        let pattern = #"name="\#(name)" value="([^"]*)""#
        let regex = try! NSRegularExpression(pattern: pattern)
        return regex.matches(in: html, range: NSRange(html.startIndex..., in: html)).map {
            unescape(String(html[Range($0.range(at: 1), in: html)!]))
        }
    }

    static func unescape(_ text: String) -> String {
        text.replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'").replacingOccurrences(of: "&lt;", with: "<")
            .replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&amp;", with: "&")
    }

    /// The href of the "Older →" link.
    static func nextLink(in html: String) -> String? {
        let regex = try! NSRegularExpression(pattern: #"<a class="button" href="([^"]*)">Older"#)
        guard let match = regex.firstMatch(in: html, range: NSRange(html.startIndex..., in: html)) else { return nil }
        return unescape(String(html[Range(match.range(at: 1), in: html)!]))
    }
}

func eventually(timeout: Duration = .seconds(60), _ what: String = "condition", _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    Issue.record("timed out waiting for \(what)")
    throw CancellationError()
}
