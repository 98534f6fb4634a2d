import Foundation
@testable import PressroomImaging
import PressroomQueue
import PressroomStorage
import Testing

/// `pressroom render --policy P` and the jobs make one policy's output through one code
/// path: the CLI's file has the same pixels as what derive or render stored for the policy.
@Suite("policy output: CLI and jobs agree")
struct PolicyOutputProcessTests {
    typealias Harness = DaemonProcessTests

    @Test func theCommandLineRendersWhatTheJobsStore() async throws {
        let namespace = "same-\(UUID().uuidString.prefix(8))"
        let objects = FileManager.default.temporaryDirectory.appendingPathComponent("pressroom-objects-\(namespace)")
        defer { try? FileManager.default.removeItem(at: objects) }
        let storeRoot = objects.appendingPathComponent("store")
        let store = try FileSystemObjectStore(configuration: FileSystemStoreConfiguration(root: storeRoot.path), logger: .init(label: "t"))
        // A 3:2 photo with an EXIF turn: the preview is fitted, never padded to the 1600 px square.
        let photoFile = Harness.fixtures.appendingPathComponent("exif/Landscape_6.jpg")
        _ = try await store.putIfAbsent("uploads/a.jpg", data: try Data(contentsOf: photoFile), contentType: "image/jpeg")
        let policies = try TestPolicies.withSmallProduct(in: objects)
        let profiles = Harness.root.appendingPathComponent("config/profiles").path
        let redis = RedisClient(endpoint: try RedisEndpoint(url: Harness.redisURL), name: "policy-output-test")
        defer { redis.shutdown() }
        let daemon = try Harness.Daemon(namespace: namespace, consumer: "imager", extraEnv: [
            "PRESSROOM_CONFIG": Harness.root.appendingPathComponent("config/pressroom.example.yaml").path,
            "PRESSROOM_STORAGE_FILESYSTEM_ROOT": storeRoot.path,
            "PRESSROOM_IMAGING_POLICIES": policies.path,
            "PRESSROOM_IMAGING_PROFILES": profiles,
        ])
        do {
            try await eventually(timeout: .seconds(60), "ready") { daemon.output.contains("worker ready") }
        } catch {
            print(daemon.output)
            throw error
        }
        let derive = QueueKeys(namespace: namespace, queue: "derive")
        let render = QueueKeys(namespace: namespace, queue: "render")
        try await QueueAdmin.enqueue(keys: derive, client: redis, id: "d1", type: "derive", payload: #"{"source":"uploads/a.jpg"}"#)
        let derived = try await Self.result(of: "d1", redis: redis, keys: derive, daemon: daemon)
        let outputs = try #require(derived["outputs"] as? [[String: Any]])
        let previewKey = try #require(outputs.first { ($0["policy"] as? String) == "preview" }?["key"] as? String)
        // The master verifies against the stored preview, so it is rendered after derive.
        try await QueueAdmin.enqueue(keys: render, client: redis, id: "r1", type: "render", payload: #"{"source":"uploads/a.jpg","policy":"sticker-small"}"#)
        let rendered = try await Self.result(of: "r1", redis: redis, keys: render, daemon: daemon)
        let masterKey = try #require(rendered["key"] as? String)
        daemon.signal(SIGTERM)
        #expect(try await daemon.waitExit() == 0)

        for (policy, key) in [("preview", previewKey), ("sticker-small", masterKey)] {
            let file = objects.appendingPathComponent("\(policy).out")
            let cli = try await Self.cli(["render", "--policy", policy, "--input", photoFile.path, "--output", file.path,
                                          "--policies", policies.path, "--profiles", profiles])
            #expect(cli.status == 0, "\(policy): \(cli.output)")
            #expect(cli.output.contains("key \(key)"), "\(policy): the CLI names the key the job stored: \(cli.output)")
            let fromCLI = try Data(contentsOf: file)
            let fromJob = try await store.get(key)
            let cliImage = try VipsImage.open(fromCLI, sequential: false)
            let jobImage = try VipsImage.open(fromJob, sequential: false)
            #expect(cliImage.width == jobImage.width && cliImage.height == jobImage.height,
                    "\(policy): CLI \(cliImage.width)×\(cliImage.height), job \(jobImage.width)×\(jobImage.height)")
            #expect(cliImage.bands == jobImage.bands)
            let same = try cliImage.pixelBytes() == jobImage.pixelBytes()
            #expect(same, "\(policy): the CLI's pixels differ from the stored output's")
        }
    }

    /// Waits for the job's `succeeded` event and returns its decoded result.
    static func result(of id: String, redis: RedisClient, keys: QueueKeys, daemon: Harness.Daemon) async throws -> [String: Any] {
        var event: [String: String]?
        do {
            try await eventually(timeout: .seconds(90), "\(id) finished") {
                let entries = StreamEntry.parseEntries(try await redis.call(["XRANGE", keys.events, "-", "+"]))
                event = entries.lazy.compactMap { entry -> [String: String]? in
                    let fields = Dictionary(entry.fields ?? [], uniquingKeysWith: { a, _ in a })
                    return fields["id"] == id && !["retrying", "deferred"].contains(fields["event"] ?? "") ? fields : nil
                }.first
                return event != nil
            }
        } catch {
            print(daemon.output)
            throw error
        }
        let finished = try #require(event)
        #expect(finished["event"] == "succeeded", "\(id): \(finished)")
        return try #require(try JSONSerialization.jsonObject(with: Data((finished["result"] ?? "").utf8)) as? [String: Any])
    }

    /// Runs the real binary with no queue environment: `render` needs no Redis.
    static func cli(_ args: [String]) async throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Harness.binary)
        process.arguments = args
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PRESSROOM_") }
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        while process.isRunning { try await Task.sleep(for: .milliseconds(10)) }
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
