import Foundation
import Logging
@testable import PressroomDaemon
import PressroomQueue
import PressroomStorage
import Testing

/// A daemon's handlers wired in-process against the test redis-server, a
/// filesystem store in a temporary directory (or a given store) and, when
/// asked, the test clamd; jobs are run by calling the handlers directly, so
/// a test decides exactly what runs when.
final class LifecycleHarness: @unchecked Sendable {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let fixtures = root.appendingPathComponent("Tests/PressroomImagingTests/Fixtures")
    static var photo: Data { try! Data(contentsOf: fixtures.appendingPathComponent("exif/Landscape_6.jpg")) }
    static var otherPhoto: Data { try! Data(contentsOf: fixtures.appendingPathComponent("exif/Landscape_2.jpg")) }
    static var markedPhoto: Data { try! Data(contentsOf: root.appendingPathComponent("scripts/services/clamd/marked-photo.jpg")) }
    /// The EICAR test string, assembled at run time so no file in the repo is one.
    static let eicar = Data(("X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + "EICAR-STANDARD-ANTIVIRUS-" + "TEST-FILE!$H+H*").utf8)

    static func env(_ name: String) throws -> String {
        try #require(ProcessInfo.processInfo.environment[name], "\(name) is not set: run scripts/test.sh (it starts redis and clamd)")
    }

    static var redisURL: String { ProcessInfo.processInfo.environment["PRESSROOM_TEST_REDIS_URL"] ?? "redis://127.0.0.1:6399" }

    let namespace: String
    let directory: URL
    let configuration: PressroomConfiguration
    let store: any ObjectStore
    let lifecycle: PressroomDaemon.LifecycleServices
    let registry: JobRegistry
    let redis: RedisClient

    /// - Parameters:
    ///   - scan: the `scan:` section (nil: no scanning).
    ///   - wrap: wraps the store the handlers see (fault or gate injection).
    init(scan: ScanSettings? = nil, store given: (any ObjectStore)? = nil, wrap: ((any ObjectStore) -> any ObjectStore)? = nil,
         configure: (inout PressroomConfiguration) -> Void = { _ in }) throws {
        namespace = "lc-\(UUID().uuidString.prefix(8))"
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("pressroom-lifecycle-\(namespace)")
        let policies = try TestPolicies.withSmallProduct(in: directory)
        var c = PressroomConfiguration()
        c.redis.url = Self.redisURL
        c.redis.namespace = namespace
        c.consumer = "harness"
        c.queues["maintenance"] = .init(concurrency: 1)
        c.jobs = ["derive": .init(queue: "derive"), "render": .init(queue: "render"),
                  "erase": .init(queue: "maintenance"), "sweep": .init(queue: "maintenance")]
        c.storage = StorageConfiguration(backend: .filesystem, filesystem: FileSystemStoreConfiguration(root: directory.appendingPathComponent("store").path))
        c.imaging.policies = policies.path
        c.imaging.profiles = Self.root.appendingPathComponent("config/profiles").path
        c.scan = scan
        configure(&c)
        try ConfigurationLoader().validate(c)
        configuration = c
        let daemon = PressroomDaemon(configuration: c, logger: Logger(label: "lifecycle-test"))
        let base = try given ?? daemon.makeStore()
        store = base
        let lifecycle = try #require(try daemon.makeLifecycleServices(store: wrap?(base) ?? base))
        self.lifecycle = lifecycle
        registry = try daemon.makeRegistry(images: try daemon.makeImageServices(lifecycle: lifecycle), lifecycle: lifecycle)
        redis = RedisClient(endpoint: try RedisEndpoint(url: Self.redisURL), name: "harness")
    }

    deinit {
        lifecycle.shutdown()
        redis.shutdown()
        try? FileManager.default.removeItem(at: directory)
    }

    var keys: LifecycleKeys { lifecycle.ledger.keys }

    func queueKeys(_ queue: String) -> QueueKeys { QueueKeys(namespace: namespace, queue: queue) }

    /// Runs one job through its handler, as the engine would on its first attempt.
    func run(_ type: String, id: String = UUID().uuidString, payload: String, attempt: Int = 1) async throws -> [String: Any] {
        let entry = try #require(registry.entry(for: type), "job type \(type) not registered")
        let job = Job(id: id, type: type, queue: entry.options.queue, attempt: attempt, payload: Data(payload.utf8), entryID: "1-\(Int.random(in: 0...999_999))",
                      enqueuedAt: Date(), fields: [:])
        var logger = Logger(label: "job")
        logger.logLevel = .warning
        let data = try await entry.handler.handle(JobContext(job: job, logger: logger, consumer: "harness"))
        return (data.flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }) ?? [:]
    }

    /// Expects the run to fail with a JobError of `errorClass`, returning its message.
    func failure(_ type: String, id: String = UUID().uuidString, payload: String) async throws -> JobError {
        do {
            let result = try await run(type, id: id, payload: payload)
            Issue.record("\(type) \(payload) succeeded: \(result)")
            throw CancellationError()
        } catch let error as JobError {
            return error
        }
    }

    func put(_ key: String, _ data: Data) async throws {
        _ = try await store.putIfAbsent(key, data: data, contentType: "image/jpeg")
    }

    func keys(under prefix: String) async throws -> [String] {
        try await store.list(prefix: prefix, limit: nil).map(\.key)
    }

    func events(_ queue: String) async throws -> [[String: String]] {
        StreamEntry.parseEntries(try await redis.call(["XRANGE", queueKeys(queue).events, "-", "+"])).map {
            Dictionary($0.fields ?? [], uniquingKeysWith: { a, _ in a })
        }
    }

    func stream(_ key: String) async throws -> [[String: String]] {
        StreamEntry.parseEntries(try await redis.call(["XRANGE", key, "-", "+"])).map {
            Dictionary($0.fields ?? [], uniquingKeysWith: { a, _ in a })
        }
    }
}

/// The shipped product policies plus `sticker-small`, a product small
/// enough for the 450×300 fixture photos.
enum TestPolicies {
    static func withSmallProduct(in directory: URL) throws -> URL {
        let policies = directory.appendingPathComponent("policies")
        try FileManager.default.createDirectory(at: policies, withIntermediateDirectories: true)
        let shipped = LifecycleHarness.root.appendingPathComponent("config/policies")
        for file in try FileManager.default.contentsOfDirectory(atPath: shipped.path) where file.hasSuffix(".yaml") {
            try FileManager.default.copyItem(at: shipped.appendingPathComponent(file), to: policies.appendingPathComponent(file))
        }
        try """
            name: sticker-small
            kind: product
            title: 1×1.5 in sticker
            size: { width: 1.5, height: 1, unit: in, dpi: 300 }
            orientation: auto
            aspect: crop
            cropTolerance: 0.05
            bleed: { mm: 0, fill: mirror }
            safeArea: 1
            resolution: { minimum: 150, warning: 240 }
            output: { format: jpeg, quality: 92, profile: srgb, intent: perceptual, blackPointCompensation: true }
            """.write(to: policies.appendingPathComponent("sticker-small.yaml"), atomically: true, encoding: .utf8)
        return policies
    }
}
