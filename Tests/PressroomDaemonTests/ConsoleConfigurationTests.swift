import Foundation
@testable import PressroomDaemon
import Testing

/// `admin.console`: an open console never listens beyond loopback, and its
/// secrets come from the usual sources.
struct ConsoleConfigurationTests {
    func load(_ yaml: String, environment: [String: String] = [:]) throws -> PressroomConfiguration {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("pressroom-console-\(UUID().uuidString).yaml")
        try yaml.write(to: url, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: url) }
        return try ConfigurationLoader().load(file: url.path, environment: environment).configuration
    }

    @Test func openConsoleOffLoopbackIsRefused() throws {
        #expect(throws: ConfigurationLoader.Invalid.self) { try load("admin:\n  host: 0.0.0.0\n") }
        // Explicitly disabled, or with users, it starts.
        _ = try load("admin:\n  host: 0.0.0.0\n  console:\n    enabled: false\n")
        let c = try load("""
            admin:
              host: 0.0.0.0
              console:
                readOnly: true
                users:
                  - name: oncall
                    password: env:CONSOLE_PW
                    role: operator
            """, environment: ["CONSOLE_PW": "a long enough secret"])
        #expect(c.admin.console.users.first?.password == "a long enough secret")
        #expect(c.admin.console.settings.users.first?.role == .operator)
        #expect(c.admin.console.settings.readOnly)
        #expect(throws: ConfigurationLoader.Invalid.self) {
            try load("admin:\n  console:\n    users:\n      - name: x\n        password: long enough secret\n        role: admin\n")
        }
        #expect(throws: ConfigurationLoader.Invalid.self) { try load("admin:\n  console:\n    refreshSeconds: 1\n") }
    }
}
