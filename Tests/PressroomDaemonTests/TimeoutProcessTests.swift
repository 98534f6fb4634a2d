import Foundation
#if canImport(Glibc)
import Glibc
#endif
@testable import PressroomImaging
import PressroomQueue
import PressroomStorage
import Testing

/// `jobs.<type>.timeout` stops the image work itself: libvips is killed, the lane slot is free
/// for the next job, and the job goes where its retry policy says.
@Suite("job timeouts stop image work")
struct TimeoutProcessTests {
    typealias Harness = DaemonProcessTests

    /// A 20×30 in CMYK canvas at 300 DPI (6000×9000 px plus bleed): seconds of libvips work.
    static let largePolicy = """
        name: canvas-large
        kind: product
        title: 20×30 in canvas
        size: { width: 20, height: 30, unit: in, dpi: 300 }
        orientation: auto
        aspect: crop
        cropTolerance: 0.05
        bleed: { mm: 20, fill: mirror }
        safeArea: 10
        resolution: { minimum: 50, warning: 100 }
        output: { format: tiff, tiffCompression: lzw, profile: xcmyk-2017.icc, intent: perceptual, blackPointCompensation: true }
        """

    @Test func aTimedOutRenderIsStoppedAndItsSlotReused() async throws {
        let namespace = "timeout-\(UUID().uuidString.prefix(8))"
        let objects = FileManager.default.temporaryDirectory.appendingPathComponent("pressroom-objects-\(namespace)")
        defer { try? FileManager.default.removeItem(at: objects) }
        let storeRoot = objects.appendingPathComponent("store")
        let store = try FileSystemObjectStore(configuration: FileSystemStoreConfiguration(root: storeRoot.path), logger: .init(label: "t"))
        let photo = try Data(contentsOf: Harness.fixtures.appendingPathComponent("exif/Landscape_1.jpg"))
        _ = try await store.putIfAbsent("uploads/small.jpg", data: photo, contentType: "image/jpeg")
        // A large source, made by enlarging the fixture: decoding and rendering it take seconds.
        let imaging = try Imaging(configuration: ImagingConfiguration(blockingThreads: 1), logger: .init(label: "t"))
        let large = try await imaging.run {
            try VipsImage.open(photo, sequential: false).resized(width: 6000, height: 4000).encoded(.jpeg(quality: 90, chromaSubsampling: true))
        }
        _ = try await store.putIfAbsent("uploads/large.jpg", data: large, contentType: "image/jpeg")
        let policies = try TestPolicies.withSmallProduct(in: objects)
        try Self.largePolicy.write(to: policies.appendingPathComponent("canvas-large.yaml"), atomically: true, encoding: .utf8)

        let redis = RedisClient(endpoint: try RedisEndpoint(url: Harness.redisURL), name: "timeout-test")
        defer { redis.shutdown() }
        let daemon = try Harness.Daemon(namespace: namespace, consumer: "renderer", extraEnv: [
            "PRESSROOM_CONFIG": Harness.root.appendingPathComponent("config/pressroom.example.yaml").path,
            "PRESSROOM_STORAGE_FILESYSTEM_ROOT": storeRoot.path,
            "PRESSROOM_IMAGING_POLICIES": policies.path,
            "PRESSROOM_IMAGING_PROFILES": Harness.root.appendingPathComponent("config/profiles").path,
            // One slot: the next render can only run once the timed-out one has let go of it.
            "PRESSROOM_QUEUES_RENDER_CONCURRENCY": "1",
            "PRESSROOM_JOBS_RENDER_TIMEOUT": "1s",
            "PRESSROOM_JOBS_RENDER_MAX_ATTEMPTS": "1",
        ])
        do {
            try await eventually(timeout: .seconds(60), "ready") { daemon.output.contains("worker ready") }
        } catch {
            print(daemon.output)
            throw error
        }
        let render = QueueKeys(namespace: namespace, queue: "render")
        let enqueuedAt = Date().timeIntervalSince1970
        try await QueueAdmin.enqueue(keys: render, client: redis, id: "slow", type: "render", payload: #"{"source":"uploads/large.jpg","policy":"canvas-large"}"#)
        try await QueueAdmin.enqueue(keys: render, client: redis, id: "next", type: "render", payload: #"{"source":"uploads/small.jpg","policy":"sticker-small"}"#)
        var byID: [String: [String: String]] = [:]
        do {
            try await eventually(timeout: .seconds(120), "both renders finished") {
                byID = Dictionary(try await Harness().events(redis, render).map { ($0["id"] ?? "", $0) }, uniquingKeysWith: { _, b in b })
                return byID["slow"]?["event"] == "dead_lettered" && byID["next"]?["event"] == "succeeded"
                    && daemon.output.contains("image work stopped")
            }
        } catch {
            print(byID, daemon.output)
            throw error
        }
        // Dead-lettered as the policy says (one attempt), with the timeout as its reason.
        #expect(byID["slow"]?["error"]?.contains("timed out after 1s") == true, "\(byID["slow"] ?? [:])")
        #expect(byID["slow"]?["error_class"] == "transient")
        // The libvips work ended: the pipeline call returned, and the process is idle again.
        let stoppedLine = try #require(daemon.output.split(separator: "\n").first { $0.contains("image work stopped") })
        // The dead letter is written once the handler has returned, so it bounds when the work
        // stopped; measured from the enqueue (the idle worker takes the job at once) plus the 1 s timeout.
        let deadAt = try #require(byID["slow"]?["at"].flatMap(Double.init)) / 1000
        let stoppedAt = try #require(Self.timestamp(in: String(stoppedLine)), "a timestamp in: \(stoppedLine)")
        let overshoot = max(deadAt, stoppedAt) - enqueuedAt - 1
        print(String(format: "timed-out render: libvips stopped and the job dead-lettered %.3f s after its 1 s timeout (upper bound, pickup included)", overshoot))
        // Generous slack for a loaded CI machine; the assertion that matters is that the work stopped at all.
        #expect(overshoot < 5, "stopped \(overshoot) s after the timeout")
        let before = try Self.cpuSeconds(of: daemon.process.processIdentifier)
        let window = ContinuousClock.now
        while ContinuousClock.now - window < .seconds(2) { try await Task.sleep(for: .milliseconds(100)) }
        let busy = try Self.cpuSeconds(of: daemon.process.processIdentifier) - before
        print("worker CPU in the 2 s after the timeout: \(String(format: "%.3f", busy)) s")
        #expect(busy < 1.0, "the worker kept computing after the timeout (\(busy) s of CPU in 2 s)")
        // The slot went to the next render, which had waited behind the slow one.
        #expect(try await store.head(try #require(byID["next"]?["result"].flatMap {
            (try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["key"] as? String
        })) != nil)
        daemon.signal(SIGTERM)
        #expect(try await daemon.waitExit() == 0)
    }

    /// User plus system CPU seconds of a process, from /proc.
    static func cpuSeconds(of pid: Int32) throws -> Double {
        let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        // Fields after the command name (which may hold spaces), counted from field 3.
        let fields = stat[stat.index(after: try #require(stat.lastIndex(of: ")")))...].split(separator: " ")
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        return (Double(fields[11]) ?? 0) / ticks + (Double(fields[12]) ?? 0) / ticks
    }

    /// The RFC 3339 timestamp a log line starts with or carries, as seconds since 1970.
    static func timestamp(in line: String) -> Double? {
        guard let range = line.range(of: #"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"#, options: .regularExpression) else { return nil }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: String(line[range]))?.timeIntervalSince1970
    }
}
