import Foundation
import PressroomHTTP

/// A few W3C WebDriver commands over HTTP, enough to drive Debian's
/// chromedriver with headless Chromium from the test suite.
struct WebDriver: Sendable {
    let base: String
    let session: String

    struct Failure: Error, CustomStringConvertible { let description: String }

    /// The chromedriver scripts/services/chromium.sh started, or nil (the browser tests then skip).
    static var url: String? { ProcessInfo.processInfo.environment["PRESSROOM_TEST_CHROMEDRIVER_URL"] }

    static func start(url: String) async throws -> WebDriver {
        let binary = ProcessInfo.processInfo.environment["PRESSROOM_TEST_CHROMIUM"] ?? "/usr/bin/chromium"
        let capabilities: [String: Any] = ["capabilities": ["alwaysMatch": [
            "browserName": "chrome",
            "goog:chromeOptions": ["binary": binary, "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                                                               "--window-size=1360,900", "--force-device-scale-factor=1"]],
        ]]]
        let reply = try await call(url + "/session", "POST", capabilities)
        guard let value = reply["value"] as? [String: Any], let id = value["sessionId"] as? String else {
            throw Failure(description: "no session: \(reply)")
        }
        return WebDriver(base: url + "/session/" + id, session: id)
    }

    func quit() async { _ = try? await Self.call(base, "DELETE", nil) }

    func open(_ url: String) async throws { _ = try await command("/url", "POST", ["url": url]) }

    func element(_ css: String) async throws -> String {
        let value = try await command("/element", "POST", ["using": "css selector", "value": css])
        guard let map = value as? [String: Any], let id = map.values.first as? String else { throw Failure(description: "no element \(css): \(String(describing: value))") }
        return id
    }

    /// The element's text once it exists: a click that submits a form may
    /// return before the next page has loaded.
    func waitForText(_ css: String, timeout: Duration = .seconds(60)) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while true {
            do { return try await text(css) } catch {
                if ContinuousClock.now >= deadline { throw error }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    func click(_ css: String) async throws { _ = try await command("/element/\(try await element(css))/click", "POST", [:]) }

    func text(_ css: String) async throws -> String {
        try await command("/element/\(try await element(css))/text", "GET", nil) as? String ?? ""
    }

    func execute(_ script: String) async throws -> Any? {
        try await command("/execute/sync", "POST", ["script": script, "args": []])
    }

    /// A PNG of the viewport.
    func screenshot() async throws -> Data {
        guard let text = try await command("/screenshot", "GET", nil) as? String, let data = Data(base64Encoded: text) else {
            throw Failure(description: "no screenshot")
        }
        return data
    }

    func command(_ path: String, _ method: String, _ body: [String: Any]?) async throws -> Any? {
        let reply = try await Self.call(base + path, method, body)
        if let value = reply["value"] as? [String: Any], let error = value["error"] as? String {
            throw Failure(description: "\(path): \(error): \(value["message"] ?? "")")
        }
        return reply["value"]
    }

    static let http = try! HTTPClient()

    static func call(_ url: String, _ method: String, _ body: [String: Any]?) async throws -> [String: Any] {
        let data = try body.map { try JSONSerialization.data(withJSONObject: $0) }
        let request = HTTPRequest(method: method, url: url, headers: [(name: "Content-Type", value: "application/json")],
                                  body: data.map { .data($0) } ?? .none, timeout: .seconds(120))
        let response = try await http.perform(request)
        return (try? JSONSerialization.jsonObject(with: response.body)) as? [String: Any] ?? [:]
    }
}
