import FlyingFox
import Foundation

/// Routes the admin port's three endpoints (and hands the console its paths). Anything else is 404, and other
/// methods than GET are 405 (HEAD too: FlyingFox would send a body with it),
/// so scanners get nothing but status codes.
struct AdminHTTPHandler: HTTPHandler {
    /// The content type Prometheus expects for text exposition format 0.0.4.
    static let metricsContentType = "text/plain; version=0.0.4; charset=utf-8"

    let metrics: PressroomMetrics
    let readiness: @Sendable () async -> Readiness
    /// Serves `/` and `/console/…` (the operator console) with its own
    /// methods, authentication and headers; absent, those paths are 404.
    var console: (any HTTPHandler)?

    func handleRequest(_ request: HTTPRequest) async throws -> HTTPResponse {
        if let console, request.path == "/" || request.path == "/console" || request.path.hasPrefix("/console/") {
            return try await console.handleRequest(request)
        }
        guard request.method == .GET else {
            return HTTPResponse(
                statusCode: .methodNotAllowed,
                headers: [.contentType: "text/plain; charset=utf-8", HTTPHeader("Allow"): "GET"],
                body: Data("method not allowed\n".utf8)
            )
        }
        switch request.path {
        case "/metrics":
            return HTTPResponse(
                statusCode: .ok,
                headers: [.contentType: Self.metricsContentType],
                body: Data(metrics.exposition())
            )
        case "/healthz":
            return HTTPResponse(
                statusCode: .ok,
                headers: [.contentType: "text/plain; charset=utf-8"],
                body: Data("ok\n".utf8)
            )
        case "/readyz":
            let state = await readiness()
            return HTTPResponse(
                statusCode: state.isReady ? .ok : .serviceUnavailable,
                headers: [.contentType: "application/json"],
                body: Self.body(for: state)
            )
        default:
            return HTTPResponse(
                statusCode: .notFound,
                headers: [.contentType: "text/plain; charset=utf-8"],
                body: Data("not found\n".utf8)
            )
        }
    }

    /// `{"ready":false,"failing":["redis"],"checks":[{"name":"redis","ok":false,"detail":"…"}]}`
    static func body(for state: Readiness) -> Data {
        struct Body: Encodable {
            var ready: Bool
            var failing: [String]
            var checks: [Readiness.Check]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let body = Body(ready: state.isReady, failing: state.failing.map(\.name), checks: state.checks)
        // Encoding strings and booleans cannot fail.
        var data = (try? encoder.encode(body)) ?? Data("{\"ready\":\(state.isReady)}".utf8)
        data.append(UInt8(ascii: "\n"))
        return data
    }
}
