import Foundation
import PressroomQueue
import PressroomStorage
import Testing

/// The real `pressroom` binary with scanning, erasure and the sweep: and
/// the check that no log line or event carries a customer's address.
@Suite("lifecycle end to end")
struct LifecycleProcessTests {
    static let address = ["Erika Mustermann", "Heidestraße 17", "erika.mustermann@example.org", "+49 30 5550123"]

    @Test func scanningErasureAndSweepKeepAddressesOutOfLogsAndEvents() async throws {
        let namespace = "e2e-\(UUID().uuidString.prefix(8))"
        let objects = FileManager.default.temporaryDirectory.appendingPathComponent("pressroom-e2e-\(namespace)")
        defer { try? FileManager.default.removeItem(at: objects) }
        let storeRoot = objects.appendingPathComponent("store").path
        let store = try FileSystemObjectStore(configuration: FileSystemStoreConfiguration(root: storeRoot), logger: .init(label: "t"))
        _ = try await store.putIfAbsent("uploads/photo.jpg", data: LifecycleHarness.photo, contentType: "image/jpeg")
        _ = try await store.putIfAbsent("uploads/eicar.jpg", data: LifecycleHarness.eicar, contentType: "image/jpeg")
        let env = [
            "PRESSROOM_CONFIG": DaemonProcessTests.root.appendingPathComponent("config/pressroom.example.yaml").path,
            "PRESSROOM_REDIS_URL": DaemonProcessTests.redisURL,
            "PRESSROOM_REDIS_NAMESPACE": namespace,
            "PRESSROOM_STORAGE_FILESYSTEM_ROOT": storeRoot,
            "PRESSROOM_IMAGING_POLICIES": DaemonProcessTests.root.appendingPathComponent("config/policies").path,
            "PRESSROOM_IMAGING_PROFILES": DaemonProcessTests.root.appendingPathComponent("config/profiles").path,
            "PRESSROOM_SCAN_ADDRESS": try LifecycleHarness.env("PRESSROOM_TEST_CLAMD_ADDRESS"),
            "PRESSROOM_QUOTAS_SHOPS_ACME_JOBS_PER_MINUTE": "{derive: 600}",
            "PRESSROOM_LOG_LEVEL": "debug",
            "PRESSROOM_ADMIN_ENABLED": "false",
        ]
        let check = try await DaemonProcessTests().cli(["config", "check"], namespace: namespace, env: env)
        #expect(check.status == 0, "\(check.output)")
        #expect(check.output.contains("address: tcp://127.0.0.1"))
        let daemon = try DaemonProcessTests.Daemon(namespace: namespace, consumer: "lifecycle", extraEnv: env)
        try await eventually(timeout: .seconds(30), "ready") { daemon.output.contains("worker ready") }
        let redis = RedisClient(endpoint: try RedisEndpoint(url: DaemonProcessTests.redisURL), name: "e2e")
        defer { redis.shutdown() }
        let shipTo = #""shipTo":{"name":"\#(Self.address[0])","street":"\#(Self.address[1])","email":"\#(Self.address[2])","phone":"\#(Self.address[3])"}"#
        let derive = QueueKeys(namespace: namespace, queue: "derive")
        let maintenance = QueueKeys(namespace: namespace, queue: "maintenance")
        try await QueueAdmin.enqueue(keys: derive, client: redis, id: "d-photo", type: "derive",
                                     payload: #"{"source":"uploads/photo.jpg","shop":"acme","customer":"c-1",\#(shipTo)}"#)
        try await QueueAdmin.enqueue(keys: derive, client: redis, id: "d-eicar", type: "derive",
                                     payload: #"{"source":"uploads/eicar.jpg","shop":"acme",\#(shipTo)}"#)
        func events(_ keys: QueueKeys) async throws -> [[String: String]] {
            StreamEntry.parseEntries(try await redis.call(["XRANGE", keys.events, "-", "+"])).map { Dictionary($0.fields ?? [], uniquingKeysWith: { a, _ in a }) }
        }
        do {
            try await eventually(timeout: .seconds(60), "both derives finished") {
                let names = try await events(derive).map { "\($0["event"] ?? "") \($0["id"] ?? "")" }
                return names.contains("succeeded d-photo") && names.contains("dead_lettered d-eicar") && names.contains("infected d-eicar")
            }
        } catch {
            print(daemon.output)
            throw error
        }
        let shown = try await DaemonProcessTests().cli(["upload", "show", "uploads/photo.jpg"], namespace: namespace, env: env)
        #expect(shown.output.contains("cpu_seconds"), "\(shown.output)")
        #expect(shown.output.contains("shop                 acme"))

        try await QueueAdmin.enqueue(keys: maintenance, client: redis, id: "erase-c1", type: "erase", payload: #"{"shop":"acme","customer":"c-1"}"#)
        try await eventually(timeout: .seconds(30), "erased") { try await events(maintenance).contains { $0["id"] == "erase-c1" && $0["event"] == "succeeded" } }
        #expect(try await store.list(prefix: "derived/", limit: nil).isEmpty)
        #expect(try await store.head("uploads/photo.jpg") == nil)

        let dry = try await DaemonProcessTests().cli(["sweep", "--dry-run"], namespace: namespace, env: env)
        #expect(dry.status == 0, "\(dry.output)")
        #expect(dry.output.contains(#""dryRun" : true"#), "\(dry.output)")
        let enqueued = try await DaemonProcessTests().cli(["sweep"], namespace: namespace, env: env)
        #expect(enqueued.status == 0)
        #expect(enqueued.output.hasPrefix("sweep-"))
        let sweepID = enqueued.output.trimmingCharacters(in: .whitespacesAndNewlines)
        try await eventually(timeout: .seconds(30), "sweep ran") { try await events(maintenance).contains { $0["id"] == sweepID && $0["event"] == "succeeded" } }
        let order = try await DaemonProcessTests().cli(["cost", "order", "A1001"], namespace: namespace, env: env)
        #expect(order.output.contains("order A1001"))

        daemon.signal(SIGTERM)
        #expect(try await daemon.waitExit() == 0)
        // Nothing a customer typed as their address reached a log line, an event or a dead-letter reason.
        var published = daemon.output
        for keys in [derive, maintenance] { published += try await events(keys).map { $0.description }.joined(separator: "\n") }
        published += StreamEntry.parseEntries(try await redis.call(["XRANGE", "{\(namespace):lifecycle}:audit", "-", "+"])).map { "\($0.fields ?? [])" }.joined()
        let dead = StreamEntry.parseEntries(try await redis.call(["XRANGE", derive.dead, "-", "+"])).map { Dictionary($0.fields ?? [], uniquingKeysWith: { a, _ in a }) }
        #expect(dead.first?["dead_reason"]?.contains("Eicar-Test-Signature") == true)
        published += dead.compactMap { $0["dead_reason"] }.joined(separator: "\n")
        #expect(published.contains("infected source refused"), "the run did log")
        for part in Self.address {
            #expect(!published.contains(part), "'\(part)' appeared in logs or events")
        }
    }
}
