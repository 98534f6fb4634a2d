import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import PressroomFulfillment
import PressroomQueue
import PressroomStorage
import Testing

/// The quick start as a newcomer meets it: a real `pressroom run` with the
/// example config (filesystem store, sandbox vendor, each in a temporary
/// folder), then `pressroom demo` as a real process, and the Python code of
/// docs/integration.md run as it is against the same kind of daemon.
@Suite("quick start: demo and integration doc")
struct QuickStartTests {
    /// A daemon on the example config, in its own namespace and folders.
    struct Setup {
        let namespace: String
        let root: URL
        var objects: URL { root.appendingPathComponent("objects") }
        var vendor: URL { root.appendingPathComponent("sandbox-vendor") }
        let env: [String: String]
        /// Partitions of every queue of the example config.
        let partitions: Int

        init(_ name: String, partitions: Int = 1) throws {
            self.partitions = partitions
            namespace = "qs-\(name)-\(UUID().uuidString.prefix(8))"
            root = FileManager.default.temporaryDirectory.appendingPathComponent("pressroom-\(namespace)")
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            let objects = root.appendingPathComponent("objects").path
            var env = [
                "PRESSROOM_CONFIG": DaemonProcessTests.root.appendingPathComponent("config/pressroom.example.yaml").path,
                "PRESSROOM_REDIS_URL": DaemonProcessTests.redisURL,
                "PRESSROOM_REDIS_NAMESPACE": namespace,
                "PRESSROOM_ADMIN_ENABLED": "false",
                "PRESSROOM_STORAGE_FILESYSTEM_ROOT": objects,
                "PRESSROOM_VENDORS_SANDBOX_SANDBOX_FOLDER": root.appendingPathComponent("sandbox-vendor").path,
                "PRESSROOM_VENDORS_SANDBOX_SANDBOX_ALLOWED_ROOTS": "[\(objects)]",
                "PRESSROOM_VENDORS_SANDBOX_SANDBOX_LATENCY": "0s",
                "PRESSROOM_VENDORS_SANDBOX_SANDBOX_IN_PRODUCTION_AFTER": "1s",
                "PRESSROOM_VENDORS_SANDBOX_SANDBOX_SHIPPED_AFTER": "2s",
            ]
            if partitions > 1 {
                for queue in ["DERIVE", "RENDER", "FULFILL", "MAINTENANCE"] { env["PRESSROOM_QUEUES_\(queue)_PARTITIONS"] = String(partitions) }
            }
            self.env = env
        }

        func daemon() throws -> DaemonProcessTests.Daemon {
            try DaemonProcessTests.Daemon(namespace: namespace, consumer: "qs-\(UUID().uuidString.prefix(6))", extraEnv: env)
        }

        func remove() { try? FileManager.default.removeItem(at: root) }
    }

    /// Runs a program to its end (or kills it after `timeout`): exit status and output.
    static func run(_ executable: String, _ arguments: [String], env: [String: String], timeout: Duration = .seconds(300)) async throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = DaemonProcessTests.root
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PRESSROOM_") }
        for (k, v) in env { environment[k] = v }
        process.environment = environment
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("qs-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(at: log)
        return (process.terminationReason == .exit ? process.terminationStatus : 128 + process.terminationStatus, output)
    }

    static func ready(_ daemon: DaemonProcessTests.Daemon) async throws {
        do {
            try await eventually(timeout: .seconds(60), "worker ready") { daemon.output.contains("worker ready") }
        } catch {
            print(daemon.output)
            throw error
        }
    }

    /// The sandbox vendor's tickets in the folder, with their masters checked against their files.
    static func tickets(_ folder: URL) throws -> [[String: Any]] {
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }
        return try names.map { name in
            let ticket = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent(name))) as? [String: Any])
            for master in ticket["masters"] as? [[String: Any]] ?? [] {
                let data = try Data(contentsOf: folder.appendingPathComponent(try #require(master["file"] as? String)))
                #expect(SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined() == master["sha256"] as? String, "master copied intact")
            }
            return ticket
        }
    }

    static func orderState(_ namespace: String, _ id: String, partitions: Int = 1) async throws -> String? {
        let client = RedisClient(endpoint: try RedisEndpoint(url: DaemonProcessTests.redisURL), name: "qs-check")
        defer { client.shutdown() }
        let keys = OrderKeys(partitions: QueuePartitions(namespace: namespace, queue: "fulfill", count: partitions)).of(order: id)
        return try await client.call(["HGET", keys.order(id), "state"]).string
    }

    /// Also with 3 partitions per queue: the order, its renders, its fulfil
    /// job and the vendor's updates each on the partition of their ids.
    @Test(arguments: [1, 3]) func theDemoTakesASamplePhotoToShippedThroughARunningDaemon(partitions: Int) async throws {
        let setup = try Setup("demo", partitions: partitions)
        defer { setup.remove() }
        let daemon = try setup.daemon()
        try await Self.ready(daemon)
        let demo = try await Self.run(DaemonProcessTests.binary, ["demo", "--timeout", "240"], env: setup.env)
        daemon.signal(SIGTERM)
        _ = try? await daemon.waitExit(timeout: .seconds(40))
        #expect(demo.status == 0, "\(demo.output)\n--- daemon:\n\(daemon.output.suffix(6000))")
        let output = demo.output
        let orderID = try #require(output.split(separator: "\n").first { $0.hasPrefix("done: order ") }.map { String($0.split(separator: " ")[2]) },
                                   "demo prints its final line:\n\(output)")
        #expect(output.contains("done: order \(orderID) is shipped"))
        #expect(output.contains("quality report"), "the derive step's quality report")
        #expect(output.contains("print-4x6") && output.contains("suggested:"))
        #expect(output.contains("order.accepted") && output.contains("order.shipped"), "the order's events as they came")
        #expect(output.contains("order \(orderID)  state shipped"), "the timeline as `order show` prints it")
        #expect(output.contains("where the outputs live"))
        #expect(!output.contains("Demo Customer") && !output.contains("1 Example Street"), "never the recipient")
        #expect(try await Self.orderState(setup.namespace, orderID, partitions: partitions) == "shipped")
        if partitions > 1 {
            // `status` shows the breakdown, and the order's partition holds its record.
            let status = try await Self.run(DaemonProcessTests.binary, ["status"], env: setup.env, timeout: .seconds(60))
            #expect(status.output.contains("fulfill/2") && status.output.contains("render/1"), "\(status.output)")
            let json = try await Self.run(DaemonProcessTests.binary, ["status", "--json"], env: setup.env, timeout: .seconds(60))
            let queues = try #require(try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [[String: Any]], "\(json.output)")
            let fulfil = try #require(queues.first { $0["queue"] as? String == "fulfill" })
            let parts = try #require(fulfil["partitions"] as? [[String: Any]])
            #expect(parts.compactMap { $0["partition"] as? Int } == [0, 1, 2])
            #expect(parts.compactMap { $0["length"] as? Int }.reduce(0, +) == fulfil["length"] as? Int)
            #expect(try await Self.orderState(setup.namespace, orderID) == nil || QueuePartitions.partition(ofJob: orderID, count: partitions) == 0)
        }
        // The vendor's side: one ticket, two lines, both masters fetched from the store.
        let tickets = try Self.tickets(setup.vendor)
        #expect(tickets.count == 1)
        #expect((tickets.first?["masters"] as? [[String: Any]])?.count == 2)
        let upload = try #require(output.split(separator: "\n").first { $0.contains("uploaded ") }?.split(separator: " ").last.map(String.init))
        #expect(FileManager.default.fileExists(atPath: setup.objects.appendingPathComponent("objects/\(upload)").path))
    }

    @Test func theDemoSaysHowToStartADaemonWhenNoneRuns() async throws {
        let setup = try Setup("nodaemon")
        defer { setup.remove() }
        let demo = try await Self.run(DaemonProcessTests.binary, ["demo"], env: setup.env, timeout: .seconds(60))
        #expect(demo.status == 1, "\(demo.output)")
        #expect(demo.output.contains("no pressroom daemon") && demo.output.contains("scripts/run.sh"), "\(demo.output)")
    }

    /// Every ```python block of docs/integration.md, in order, as one program.
    static func integrationScript() throws -> String {
        let doc = try String(contentsOf: DaemonProcessTests.root.appendingPathComponent("docs/integration.md"), encoding: .utf8)
        var blocks: [String] = []
        var current: [Substring]?
        for line in doc.split(separator: "\n", omittingEmptySubsequences: false) {
            if current == nil, line.trimmingCharacters(in: .whitespaces) == "```python" {
                current = []
            } else if current != nil, line.trimmingCharacters(in: .whitespaces) == "```" {
                blocks.append(current!.joined(separator: "\n"))
                current = nil
            } else {
                current?.append(line)
            }
        }
        #expect(current == nil, "an unclosed code block")
        return blocks.joined(separator: "\n\n")
    }

    @Test func theIntegrationDocsPythonRunsAgainstARealDaemon() async throws {
        let python = try #require(ProcessInfo.processInfo.environment["PRESSROOM_TEST_PYTHON"],
                                  "PRESSROOM_TEST_PYTHON is not set: run scripts/test.sh, or eval \"$(scripts/services/python.sh start)\" first")
        let script = try Self.integrationScript()
        #expect(script.contains("xadd") && script.contains("xread"), "the doc uses plain XADD/XREAD")
        let setup = try Setup("doc")
        defer { setup.remove() }
        let file = setup.root.appendingPathComponent("integration.py")
        try script.write(to: file, atomically: true, encoding: .utf8)
        // The shop's upload endpoint: the photo into the store the daemon reads.
        let store = try FileSystemObjectStore(configuration: FileSystemStoreConfiguration(root: setup.objects.path), logger: .init(label: "qs"))
        let upload = "uploads/doc-\(UUID().uuidString.prefix(8)).jpg"
        _ = try await store.putIfAbsent(upload, file: DaemonProcessTests.root.appendingPathComponent("fixtures/demo/landscape.jpg"), contentType: "image/jpeg")
        let daemon = try setup.daemon()
        try await Self.ready(daemon)
        let orderID = "doc-\(UUID().uuidString.prefix(8))"
        let result = try await Self.run(python, [file.path], env: [
            "PRESSROOM_REDIS_URL": DaemonProcessTests.redisURL, "PRESSROOM_REDIS_NAMESPACE": setup.namespace,
            "UPLOAD_KEY": upload, "ORDER_ID": orderID,
        ])
        daemon.signal(SIGTERM)
        _ = try? await daemon.waitExit(timeout: .seconds(40))
        #expect(result.status == 0, "\(result.output)\n--- daemon:\n\(daemon.output.suffix(6000))")
        #expect(result.output.contains("order \(orderID) is shipped"), "\(result.output)")
        #expect(result.output.contains("preview: derived/"), "\(result.output)")
        #expect(try await Self.orderState(setup.namespace, orderID) == "shipped")
        #expect(try Self.tickets(setup.vendor).count == 1)
    }
}
