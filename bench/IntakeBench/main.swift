import Foundation
import Logging
import PressroomDaemon
import PressroomQueue
import PressroomScan
import PressroomStorage

// Two figures for bench/intake, one JSON line each:
//   scan  FILES...   INSTREAM throughput through ClamdClient, one file after another
//   sweep            put BENCH_SWEEP_OBJECTS drafts in S3 (moto), then time one sweep of them

let env = ProcessInfo.processInfo.environment
let arguments = Array(CommandLine.arguments.dropFirst())

func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }

switch arguments.first {
case "scan":
    let files = arguments.dropFirst().map { URL(fileURLWithPath: $0) }
    let address = try ClamdAddress(parsing: env["BENCH_CLAMD_ADDRESS"] ?? "tcp://127.0.0.1:3399")
    let limit = Int64(env["BENCH_STREAM_MAX"] ?? "") ?? (4 << 20)
    let client = ClamdClient(options: .init(address: address, streamMaxLength: limit, connections: 1))
    try await client.ping()
    var bytes: Int64 = 0
    let started = ContinuousClock.now
    for file in files {
        let verdict = try await client.scan(file: file)
        precondition(verdict == .clean, "bench files must be clean")
        bytes += (try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int64) ?? 0
    }
    let elapsed = seconds(ContinuousClock.now - started)
    print(#"{"client":"pressroom","what":"scan","files":\#(files.count),"bytes":\#(bytes),"seconds":\#(elapsed),"mb_per_s":\#(Double(bytes) / 1e6 / elapsed)}"#)

case "sweep":
    let count = Int(env["BENCH_SWEEP_OBJECTS"] ?? "") ?? 10_000
    let prefix = "sweepbench\(UUID().uuidString.prefix(6).lowercased())-"
    var c = PressroomConfiguration()
    c.redis.url = env["BENCH_REDIS_URL"] ?? "redis://127.0.0.1:6399"
    c.redis.namespace = "bench-\(UUID().uuidString.prefix(6))"
    c.consumer = "intake-bench"
    c.queues["maintenance"] = .init(concurrency: 1)
    c.jobs = ["sweep": .init(queue: "maintenance")]
    c.imaging.sourcePrefixes = [prefix]
    c.retention.drafts = DurationText(.seconds(1))
    c.retention.findUnrecordedDerivatives = false
    c.log.level = "warning"
    let s3 = S3Configuration(endpoint: env["BENCH_ENDPOINT"]!, region: "us-east-1", bucket: env["BENCH_BUCKET"]!, addressingStyle: .path,
                             accessKeyID: env["BENCH_ACCESS_KEY"], secretAccessKey: env["BENCH_SECRET_KEY"], connections: 16)
    c.storage = StorageConfiguration(backend: .s3, s3: s3)
    var logger = Logger(label: "intake-bench")
    logger.logLevel = .warning
    let store = try S3ObjectStore(configuration: s3, logger: logger)
    // Drafts of a few KB each, written 32 at a time.
    try await withThrowingTaskGroup(of: Void.self) { group in
        var next = 0
        func add() {
            let key = "\(prefix)\(String(format: "%05d", next)).jpg"
            let body = Data(repeating: UInt8(next % 251), count: 2048)
            next += 1
            group.addTask { _ = try await store.putIfAbsent(key, data: body, contentType: "image/jpeg") }
        }
        while next < min(32, count) { add() }
        while try await group.next() != nil { if next < count { add() } }
    }
    try await Task.sleep(for: .milliseconds(1500))
    let started = ContinuousClock.now
    let report = try await PressroomDaemon(configuration: c, logger: logger).sweepNow(jobID: "bench-sweep")
    let elapsed = seconds(ContinuousClock.now - started)
    let parsed = try JSONSerialization.jsonObject(with: report) as? [String: Any] ?? [:]
    let deleted = ((parsed["deleted"] as? [String: Any])?["originals"] as? Int) ?? 0
    precondition(deleted == count, "the sweep deleted \(deleted) of \(count)")
    print(#"{"client":"pressroom","what":"sweep","objects":\#(deleted),"seconds":\#(elapsed),"objects_per_s":\#(Double(deleted) / elapsed)}"#)

default:
    FileHandle.standardError.write(Data("usage: IntakeBench scan FILES... | sweep\n".utf8))
    exit(2)
}
