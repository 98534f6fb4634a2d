import Foundation
import Logging
@testable import PressroomConsole
import PressroomQueue
import Synchronization
import Testing

/// The console in headless Chromium (chromedriver from scripts/services/chromium.sh):
/// pages load, a dead letter opens, a replay runs the job, hostile payloads
/// stay text. Screenshots go to var/artifacts/console-*.png.
@Suite(.enabled(if: WebDriver.url != nil, "PRESSROOM_TEST_CHROMEDRIVER_URL is not set (scripts/services/chromium.sh)"), .timeLimit(.minutes(5)))
struct ConsoleBrowserTests {
    static var artifacts: URL {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let dir = root.appendingPathComponent("var/artifacts")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    static func save(_ driver: WebDriver, _ name: String) async throws {
        try await driver.screenshot().write(to: artifacts.appendingPathComponent("console-\(name).png"))
    }

    @Test func overviewDeadLetterReplayAndHostilePayload() async throws {
        let f = try await ConsoleFixture(queues: ["derive", "render", "fulfill"])
        defer { Task { await f.stop() } }
        let ran = Runs()
        var registry = JobRegistry()
        let options = JobTypeOptions(type: "thumbnail", queue: "derive", retry: RetryPolicy(maxAttempts: 2, initialBackoff: .milliseconds(10), maxBackoff: .milliseconds(20)))
        registry.register(options, handler: ClosureJobHandler { context in
            ran.withLock { $0.append(context.job.id) }
            if context.job.id.hasPrefix("fails") { throw JobError.permanent("source image is truncated (libvips: VipsJpeg: premature end of JPEG file)") }
            return Data(#"{"width":640,"height":480}"#.utf8)
        })
        let worker = QueueWorker(configuration: .init(endpoint: ConsoleFixture.endpoint, namespace: f.namespace, consumer: "worker-\(UUID().uuidString.prefix(6))",
                                                      queues: [QueueOptions(name: "derive", concurrency: 2, block: .milliseconds(200))]),
                                 registry: registry, logger: ConsoleFixture.logger)
        let task = Task { try? await worker.run() }
        defer { worker.stop(); Task { await task.value } }
        // Some history for the chart, a real failure, and hostile dead letters.
        for i in 0..<40 { try await QueueAdmin.enqueue(keys: f.keys("derive"), client: f.client, id: "ok-\(i)", type: "thumbnail", payload: "{}") }
        try await QueueAdmin.enqueue(keys: f.keys("derive"), client: f.client, id: "fails-1", type: "thumbnail", payload: #"{"source":"uploads/broken.jpg"}"#)
        try await eventually("the failing job is dead-lettered") { try await f.deadCount("derive") == 1 }
        let hostile = #"{"caption":"<script>window.__xss=1</script>","alt":"\"><img src=x onerror=\"window.__xss=2\">","quote":"it's"}"#
        let hostileID = try await f.addDead(queue: "render", jobID: "hostile-1", type: "render", payload: Array(hostile.utf8),
                                            reason: "permanent: <img src=x onerror=window.__xss=3> policy missing")
        for i in 0..<6 { try await f.addDead(queue: "fulfill", jobID: "order-10\(i)", type: "fulfill", reason: "transient: vendor answered 503 five times") }
        try await eventually("the 40 jobs ran") { ran.withLock { $0.count } >= 41 }

        let driver = try await WebDriver.start(url: WebDriver.url!)
        defer { Task { await driver.quit() } }
        // Overview.
        try await driver.open(f.base + "/console/")
        #expect(try await driver.text("h1") == "Overview")
        #expect(try await driver.text("tr[data-queue=derive]").contains("derive"))
        try await eventually("the chart shows the last minute") {
            try await driver.open(f.base + "/console/")
            return (try await driver.execute("return document.querySelectorAll('tr[data-queue=derive] rect.ok[height]:not([height=\"0\"])').length") as? Int ?? 0) > 0
        }
        try await Self.save(driver, "overview")
        // The live part refreshes itself (here every 2 s, the floor) without a reload.
        try await driver.open(f.base + "/console/?refresh=2")
        _ = try await driver.execute("window.__marker = 1; return 1")
        try await eventually("the overview refreshed itself") {
            try await driver.execute("return document.getElementById('live').getAttribute('data-updated')") as? String != nil
        }
        #expect(try await driver.execute("return window.__marker") as? Int == 1)
        try await driver.open(f.base + "/console/consumers")
        try await Self.save(driver, "consumers")
        // The dead-letter list and a detail page.
        try await driver.open(f.base + "/console/dead")
        try await Self.save(driver, "dead-letters")
        try await driver.open(f.base + "/console/dead/entry?ref=" + FormFields.encode("render/\(hostileID)"))
        #expect(try await driver.text("#payload").contains("<script>window.__xss=1</script>"))
        #expect(try await driver.execute("return window.__xss === undefined") as? Bool == true)
        #expect(try await driver.execute("return document.querySelectorAll('#payload script, #payload img, main img').length") as? Int == 0)
        try await Self.save(driver, "dead-letter-hostile")
        // Replay the real failure from its page; the job runs again.
        let dead = StreamEntry.parseEntries(try await f.client.call(["XRANGE", f.keys("derive").dead, "-", "+"])).first!
        try await driver.open(f.base + "/console/dead/entry?ref=" + FormFields.encode("derive/\(dead.id)"))
        try await Self.save(driver, "dead-letter")
        let before = ran.withLock { $0.filter { $0 == "fails-1" }.count }
        try await driver.click("#replay")
        #expect(try await driver.waitForText("#result").contains("Replayed 1 of 1"))
        try await eventually("the replayed job ran") { ran.withLock { $0.filter { $0 == "fails-1" }.count } > before }
        try await Self.save(driver, "replayed")
        // Bulk: select all on the fulfil queue, confirm, replay.
        try await driver.open(f.base + "/console/dead?queue=fulfill")
        try await driver.click("#select-all")
        try await driver.click("button[value=replay-selected]")
        _ = try await driver.waitForText("#confirm")
        try await Self.save(driver, "confirm")
        try await driver.click("#confirm")
        #expect(try await driver.waitForText("#result").contains("Replayed 6 of 6"))
        // Job lookup shows the ok job's result.
        try await driver.open(f.base + "/console/jobs?id=ok-1")
        #expect(try await driver.text("main").contains("succeeded"))
        try await Self.save(driver, "job")
        #expect(try await driver.execute("return window.__xss === undefined") as? Bool == true)
    }
}

/// Job ids the test handler ran, in order.
final class Runs: Sendable {
    private let ids = Mutex<[String]>([])
    func withLock<T>(_ body: (inout [String]) -> T) -> T { ids.withLock { body(&$0) } }
}
