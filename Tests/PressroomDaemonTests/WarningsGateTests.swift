import Foundation
import Testing

/// `.ci/run` fails on new compiler warnings in Sources/ (issue 15, item 6).
struct WarningsGateTests {
    static let root = ConfigurationTests.root

    /// Runs scripts/check-warnings.sh on a build log; returns its exit status and stderr.
    func check(_ log: String) async throws -> (status: Int32, output: String) {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("pressroom-build-\(UUID().uuidString.prefix(8)).log")
        try log.write(to: file, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = [Self.root.appendingPathComponent("scripts/check-warnings.sh").path, file.path, Self.root.path]
        let err = FileManager.default.temporaryDirectory.appendingPathComponent("pressroom-gate-\(UUID().uuidString.prefix(8)).txt")
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        p.standardError = try FileHandle(forWritingTo: err)
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        while p.isRunning { try await Task.sleep(for: .milliseconds(10)) }
        return (p.terminationStatus, (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }

    @Test func aWarningInOurSourcesFailsTheBuildCheck() async throws {
        let root = Self.root.path
        let ours = "\(root)/Sources/PressroomQueue/Engine/QueueLane.swift:616:63: warning: trailing closure in this context is confusable with the body of the statement"
        let failed = try await check("[12/90] Compiling PressroomQueue QueueLane.swift\n\(ours)\nBuild complete!\n")
        #expect(failed.status != 0)
        #expect(failed.output.contains("QueueLane.swift:616:63"), "\(failed.output)")
        // pkg-config's dropped flags and dependencies' warnings are not ours.
        let clean = try await check("""
            warning: prohibited flag(s): -pthread, -pthread
            warning: prohibited flag(s): -D_FILE_OFFSET_BITS=64
            \(root)/.build/checkouts/Yams/Sources/Yams/Node.swift:10:5: warning: something upstream
            Build complete!
            """)
        #expect(clean.status == 0, "\(clean.output)")
    }

    @Test func theTestScriptRunsTheGateOnItsBuild() throws {
        let script = try String(contentsOf: Self.root.appendingPathComponent("scripts/test.sh"), encoding: .utf8)
        #expect(script.contains("swift build --build-tests 2>&1 | tee \"$build_log\""))
        #expect(script.contains("bash scripts/check-warnings.sh \"$build_log\""))
        let ci = try String(contentsOf: Self.root.appendingPathComponent(".ci/run"), encoding: .utf8)
        #expect(ci.contains("scripts/test.sh"))
    }
}
