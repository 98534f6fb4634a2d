import Foundation
import Logging
import Metrics
import PressroomHTTP
import Synchronization

/// What every adapter's calls share: the vendor's own HTTP client (as many
/// connections as `maxInFlight`), credentials, the in-flight limit, the
/// request timeout, metrics, and the classification of transport failures,
/// 401, 409, 429 and 5xx. Adapters interpret 2xx and the other 4xx.
public struct VendorHTTP: Sendable {
    public let vendor: String
    public let baseURL: String
    public let client: HTTPClient
    public let auth: VendorAuthenticator
    public let timeout: Duration
    public let extraHeaders: [(name: String, value: String)]
    public let secrets: Redactor
    let metrics: FulfillmentMetrics
    /// Response bodies are small JSON documents.
    static let maxResponseBytes = 4 << 20

    public init(vendor: String, configuration: VendorConfiguration, defaultAuthHeader: String, metrics: FulfillmentMetrics) throws {
        self.vendor = vendor
        self.baseURL = configuration.baseURL.hasSuffix("/") ? String(configuration.baseURL.dropLast()) : configuration.baseURL
        let connectMs = Int(configuration.timeouts.connect.duration.milliseconds)
        self.client = try HTTPClient(options: .init(connectTimeoutMilliseconds: max(1, connectMs), lowSpeedLimitBytesPerSecond: 1,
                                                    lowSpeedTimeSeconds: max(1, Int(configuration.timeouts.request.duration.components.seconds) + 1),
                                                    connections: configuration.maxInFlight, name: "vendor-\(vendor)"))
        self.timeout = configuration.timeouts.request.duration
        self.auth = VendorAuthenticator(vendor: vendor, auth: configuration.auth, defaultHeader: defaultAuthHeader, client: client, timeout: timeout)
        var extra: [(name: String, value: String)] = []
        if let store = configuration.storeID { extra.append(("X-PF-Store-Id", store)) }
        self.extraHeaders = extra
        self.secrets = Redactor(configuration.secrets)
        self.metrics = metrics
    }

    public struct Response: Sendable {
        public var status: Int
        public var body: Data
        public var headers: [String: String]
        public var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] }
    }

    /// Sends one request. Throws ``VendorCallError`` for everything that is
    /// not the vendor's own answer about the order; returns 2xx and other 4xx.
    /// `resendable` says a second copy of this request is the same order (the
    /// vendor dedupes it by its key): it may then travel over a kept-alive
    /// connection, which libcurl may re-send on if that connection died.
    public func send(_ method: String, _ path: String, json body: Data? = nil, headers: [(name: String, value: String)] = [],
                     resendable: Bool = false, redact: Redactor, logger: Logger) async throws -> Response {
        var refreshed = false
        while true {
            var all: [(name: String, value: String)] = [("Accept", "application/json")] + extraHeaders + headers
            if body != nil { all.append(("Content-Type", "application/json")) }
            all += try await auth.headers()
            var request = HTTPRequest(method: method, url: baseURL + path, headers: all, body: body.map { .data($0) } ?? .none,
                                      timeout: timeout, maxResponseBytes: Self.maxResponseBytes)
            // Never let libcurl resend a create behind our back unless the
            // key makes the copy harmless (see HTTPRequest.allowsResend).
            request.allowsResend = body == nil || resendable
            let response: HTTPResponse
            do {
                response = try await timed(request)
            } catch let error as HTTPClientError {
                let kind: VendorCallError.Kind = error.requestSent ? .noAnswer : .notSent
                throw VendorCallError(kind, vendor: vendor, message: "\(method) \(path): \(error.code): \(redact(secrets(error.message)))")
            }
            let status = response.status
            switch status {
            case 401:
                if auth.canRefresh && !refreshed {
                    refreshed = true
                    auth.invalidate()
                    logger.notice("vendor answered 401; refreshing the token once", metadata: ["vendor": "\(vendor)"])
                    continue
                }
                throw VendorCallError(.unauthorized, vendor: vendor, httpStatus: 401,
                                      message: "\(method) \(path): the vendor refused our credentials" + (refreshed ? " (also after a token refresh)" : ""))
            case 409:
                throw VendorCallError(.inFlight, vendor: vendor, httpStatus: 409, message: "\(method) \(path): the same request is still in flight at the vendor",
                                      retryAfter: Self.retryAfter(response))
            case 429:
                throw VendorCallError(.rateLimited, vendor: vendor, httpStatus: 429, message: "\(method) \(path): rate limited",
                                      retryAfter: Self.retryAfter(response) ?? .seconds(5))
            case 500...599:
                throw VendorCallError(.server, vendor: vendor, httpStatus: status,
                                      message: "\(method) \(path): server error: \(redact(secrets(Self.snippet(response.body))))",
                                      retryAfter: Self.retryAfter(response))
            case 300...399:
                throw VendorCallError(.badResponse, vendor: vendor, httpStatus: status, message: "\(method) \(path): redirect refused (redirects are never followed)")
            default:
                return Response(status: status, body: response.body, headers: response.headers)
            }
        }
    }

    /// One request within the vendor's in-flight limit: the client has
    /// `maxInFlight` connections (and threads), and a request waits in its
    /// queue for one. The wait and the request are timed apart: the request
    /// time is the vendor's (and the network's), the wait says `maxInFlight`
    /// is the limit.
    ///
    /// A semaphore around the call held its permit until the caller's task
    /// ran again, and the next waiter's until its task ran: with the
    /// cooperative pool busy, 30–40 ms of a 50 ms vendor's every request, so
    /// 32 permits carried fewer than 32 requests.
    private func timed(_ request: HTTPRequest) async throws -> HTTPResponse {
        let queued = ContinuousClock.now
        let started = Mutex(queued)
        let vendor = self.vendor, metrics = self.metrics
        do {
            let response = try await client.perform(request) {
                started.withLock { $0 = ContinuousClock.now }
                metrics.waited(vendor: vendor, since: queued)
            }
            metrics.request(vendor: vendor, outcome: Self.outcome(response.status), since: started.withLock { $0 })
            return response
        } catch let error as HTTPClientError {
            metrics.request(vendor: vendor, outcome: error.code == .timeout ? "timeout" : (error.requestSent ? "connection" : "not_sent"),
                            since: started.withLock { $0 })
            throw error
        }
    }

    /// GET of one order: `nil` on 404, the parsed order on 2xx, else a
    /// rejection in the dialect's words.
    public func fetchOrder(_ path: String, logger: Logger, parse: ([String: Any]) -> VendorOrder?,
                           rejection: ([String: Any]?, Data, Redactor) -> String) async throws -> VendorOrder? {
        let response = try await send("GET", path, redact: secrets, logger: logger)
        if response.status == 404 { return nil }
        guard (200..<300).contains(response.status), let json = response.json, let order = parse(json) else {
            throw VendorCallError(.rejected, vendor: vendor, httpStatus: response.status, message: rejection(response.json, response.body, secrets))
        }
        return order
    }

    static func outcome(_ status: Int) -> String {
        switch status {
        case 200..<300: return "ok"
        case 401: return "unauthorized"
        case 409: return "in_flight"
        case 429: return "rate_limited"
        case 400..<500: return "rejected"
        default: return "server_error"
        }
    }

    /// `Retry-After` in seconds or as an HTTP date, capped at an hour.
    static func retryAfter(_ response: HTTPResponse) -> Duration? {
        guard let s = response.headers["retry-after"].flatMap({ HTTPDate.retryAfterSeconds($0) }) else { return nil }
        return .milliseconds(Int64(min(3600, s) * 1000))
    }

    /// The start of a body, for messages (callers redact).
    static func snippet(_ body: Data) -> String {
        let text = String(decoding: body.prefix(300), as: UTF8.self)
        return text.isEmpty ? "(empty body)" : text
    }

    /// Path-safe form of an id from a vendor or from us.
    static func pathComponent(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~@")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    static func encode<T: Encodable>(_ value: T) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)) ?? Data("{}".utf8)
    }
}
