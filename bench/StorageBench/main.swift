// Storage throughput benchmark (run by bench/storage): PUT and GET of objects
// of several sizes through S3ObjectStore, one object at a time, files on disk
// on both ends (as the daemon moves masters). Prints one JSON line per
// size and direction.
import Crypto
import Foundation
import Logging
import PressroomStorage

let env = ProcessInfo.processInfo.environment
func required(_ name: String) -> String {
    guard let value = env[name], !value.isEmpty else {
        FileHandle.standardError.write(Data("missing \(name)\n".utf8))
        exit(2)
    }
    return value
}

let sizesMiB = (env["BENCH_SIZES_MIB"] ?? "1,16,128").split(separator: ",").compactMap { Int($0) }
let bucket = required("BENCH_BUCKET")
var configuration = S3Configuration(
    endpoint: required("BENCH_ENDPOINT"), region: env["BENCH_REGION"] ?? "us-east-1", bucket: bucket,
    addressingStyle: .path, accessKeyID: required("BENCH_ACCESS_KEY"), secretAccessKey: required("BENCH_SECRET_KEY")
)
// Pressroom's default transfer settings (multipart from 64 MiB, 8 MiB parts,
// 10 in flight) unless overridden, as boto3 runs with its own defaults.
if let value = env["BENCH_MULTIPART_THRESHOLD"].flatMap({ Int64($0) }) { configuration.multipartThresholdBytes = value }
if let value = env["BENCH_PART_SIZE"].flatMap({ Int64($0) }) { configuration.multipartPartSizeBytes = value }
if let value = env["BENCH_CONCURRENCY"].flatMap({ Int($0) }) { configuration.multipartConcurrency = value }
configuration.connections = max(configuration.multipartConcurrency, configuration.connections)

var logger = Logger(label: "pressroom.bench.storage")
logger.logLevel = .error
let store = try S3ObjectStore(configuration: configuration, logger: logger)

let work = URL(fileURLWithPath: env["BENCH_WORKDIR"] ?? NSTemporaryDirectory()).appendingPathComponent("pressroom-bench-\(getpid())")
try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: work) }
let run = UUID().uuidString.prefix(8)

func repetitions(_ mib: Int) -> Int { mib <= 1 ? 30 : mib <= 16 ? 8 : 3 }

func makeFile(_ mib: Int) throws -> URL {
    let url = work.appendingPathComponent("src-\(mib)")
    // xorshift from a random seed: incompressible bytes without a getrandom
    // call per word (millions of syscalls on a shared machine).
    var state = UInt64.random(in: 1...UInt64.max)
    var data = Data(count: mib << 20)
    data.withUnsafeMutableBytes { raw in
        for i in 0..<(raw.count / 8) {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            raw.storeBytes(of: state, toByteOffset: i * 8, as: UInt64.self)
        }
    }
    try data.write(to: url)
    return url
}

// Warm-up: connections, thread pools, the server's first-request costs.
let warm = try makeFile(1)
_ = try await store.putIfAbsent("bench-\(run)/warmup", file: warm, contentType: "application/octet-stream")
_ = try await store.get("bench-\(run)/warmup", toFile: work.appendingPathComponent("warm-out"))

for mib in sizesMiB {
    let source = try makeFile(mib)
    let count = repetitions(mib)
    let keys = (0..<count).map { "bench-\(run)/\(mib)MiB-\($0)" }
    // BENCH_KNOWN_SHA256=1: the caller passes the digest, as render does for
    // a master it hashed while encoding (hashed here before the clock starts).
    let known = env["BENCH_KNOWN_SHA256"] == "1"
        ? SHA256.hash(data: try Data(contentsOf: source)).map { String(format: "%02x", $0) }.joined() : nil
    let clock = ContinuousClock()
    let putTime = try await clock.measure {
        for key in keys {
            _ = try await store.putIfAbsent(key, file: source, contentType: "application/octet-stream", sha256: known)
        }
    }
    let target = work.appendingPathComponent("dst-\(mib)")
    let getTime = try await clock.measure {
        for key in keys {
            _ = try await store.get(key, toFile: target)
        }
    }
    for (direction, time) in [("PUT", putTime), ("GET", getTime)] {
        let seconds = Double(time.components.seconds) + Double(time.components.attoseconds) / 1e18
        let mibPerSecond = Double(mib * count) / seconds
        print("{\"client\":\"pressroom\",\"direction\":\"\(direction)\",\"size_mib\":\(mib),\"objects\":\(count),\"seconds\":\(seconds),\"mib_per_s\":\(mibPerSecond)}")
    }
    try await store.delete(keys: keys)
    try FileManager.default.removeItem(at: source)
}
try await store.delete(keys: ["bench-\(run)/warmup"])
