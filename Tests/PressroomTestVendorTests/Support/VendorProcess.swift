import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A `pressroom-test-vendor` process started by a test: on a free port,
/// tied to the test process through its stdin (it exits when we do), with
/// its request log in a file the test can read.
final class VendorProcess: @unchecked Sendable {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var binary: String {
        ProcessInfo.processInfo.environment["PRESSROOM_TEST_VENDOR_BINARY"]
            ?? root.appendingPathComponent(".build/debug/pressroom-test-vendor").path
    }

    let process = Process()
    let url: String
    let logFile: URL
    private let stdin = Pipe()

    init(arguments: [String] = []) async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary),
                     "\(Self.binary) is missing: run `swift build --product pressroom-test-vendor` (scripts/test.sh does)")
        logFile = FileManager.default.temporaryDirectory.appendingPathComponent("test-vendor-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let stdout = Pipe()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["--port", "0", "--exit-on-stdin-close"] + arguments
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = try FileHandle(forWritingTo: logFile)
        try process.run()
        let line = try await Self.firstLine(of: stdout.fileHandleForReading, timeout: .seconds(60))
        let prefix = "pressroom-test-vendor listening on "
        let shown = try #require(line.flatMap { $0.hasPrefix(prefix) ? String($0.dropFirst(prefix.count)) : nil },
                                 "the test vendor did not start: \(line ?? "no output"); log: \(String(decoding: (try? Data(contentsOf: logFile)) ?? Data(), as: UTF8.self))")
        url = shown
    }

    deinit {
        stop()
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    /// What the death of the test process does: the server should exit.
    func closeStdin() {
        try? stdin.fileHandleForWriting.close()
    }

    var log: String {
        String(decoding: (try? Data(contentsOf: logFile)) ?? Data(), as: UTF8.self)
    }

    /// Reads up to the first newline on a thread of its own (a blocking read).
    static func firstLine(of handle: FileHandle, timeout: Duration) async throws -> String? {
        try await withThrowingTaskGroup(of: String?.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    let thread = Thread {
                        var data = Data()
                        while true {
                            let chunk = handle.availableData
                            if chunk.isEmpty { break }
                            data.append(chunk)
                            if data.contains(UInt8(ascii: "\n")) { break }
                        }
                        let text = String(decoding: data, as: UTF8.self)
                        continuation.resume(returning: text.split(separator: "\n").first.map(String.init))
                    }
                    thread.start()
                }
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }
}
