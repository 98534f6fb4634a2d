import ArgumentParser
import Foundation
import PressroomStorage

/// Puts, heads, gets and deletes a probe object, and names the step that
/// failed and why (bad signature, missing bucket, no permission...).
struct StoreCheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "check", abstract: "Put, head, get and delete a probe object.")

    @OptionGroup var store: StoreOptions

    @Option(help: "Key prefix for the probe object.")
    var prefix = "pressroom-check/"

    func run() async throws {
        let objectStore = try store.makeStore()
        let key = prefix + "probe-\(UUID().uuidString)"
        let payload = Data("pressroom store check \(Date())\n".utf8)
        var failed = false

        func step(_ name: String, _ body: () async throws -> String) async {
            guard !failed else {
                print("-    \(name): skipped")
                return
            }
            let started = ContinuousClock.now
            do {
                let detail = try await body()
                let elapsed = ContinuousClock.now - started
                let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
                print("ok   \(name): \(detail) (\(String(format: "%.1f", ms)) ms)")
            } catch {
                failed = true
                print("FAIL \(name): \(error)")
            }
        }

        print("probe object: \(key)")
        await step("put") { "\(try await objectStore.putIfAbsent(key, data: payload, contentType: "text/plain"))" }
        await step("head") {
            guard let metadata = try await objectStore.head(key) else { throw CheckFailure("object not found right after put") }
            guard metadata.size == Int64(payload.count) else { throw CheckFailure("size \(metadata.size), expected \(payload.count)") }
            return "\(metadata.size) bytes, sha256 \(metadata.checksumSHA256 ?? "not reported")"
        }
        await step("get") {
            let data = try await objectStore.get(key)
            guard data == payload else { throw CheckFailure("read back \(data.count) bytes that differ from what was written") }
            return "\(data.count) bytes match"
        }
        await step("delete") {
            try await objectStore.delete(key)
            guard try await objectStore.head(key) == nil else { throw CheckFailure("object still there after delete") }
            return "gone"
        }
        if failed { throw ExitCode.failure }
        print("object store OK")
    }
}

struct CheckFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
