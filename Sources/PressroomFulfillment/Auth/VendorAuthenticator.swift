import Foundation
import PressroomHTTP
import Synchronization

/// Adds a vendor's credentials to requests. OAuth2 client-credentials tokens
/// are cached per process, fetched again `refreshBefore` their expiry, and
/// once more when the vendor answers 401 (it may have revoked the token).
public final class VendorAuthenticator: Sendable {
    let vendor: String
    let auth: VendorConfiguration.Auth
    let defaultHeader: String
    let client: HTTPClient
    let timeout: Duration
    private struct Token { var value: String; var expires: ContinuousClock.Instant }
    private let cached = Mutex<Token?>(nil)
    /// One token request at a time; others wait for its result.
    private let fetching = AsyncSemaphore(permits: 1)

    public init(vendor: String, auth: VendorConfiguration.Auth, defaultHeader: String, client: HTTPClient, timeout: Duration) {
        self.vendor = vendor
        self.auth = auth
        self.defaultHeader = defaultHeader
        self.client = client
        self.timeout = timeout
    }

    /// Whether a 401 is worth one retry with a fresh credential.
    public var canRefresh: Bool { auth.kind == .oauth2 }

    public func headers() async throws -> [(name: String, value: String)] {
        switch auth.kind {
        case .apiKey: return [(auth.header ?? defaultHeader, auth.apiKey ?? "")]
        case .bearer: return [("Authorization", "Bearer \(auth.token ?? "")")]
        case .oauth2: return [("Authorization", "Bearer \(try await token())")]
        }
    }

    /// Forgets the cached token (after a 401).
    public func invalidate() {
        cached.withLock { $0 = nil }
    }

    func token() async throws -> String {
        let margin = auth.refreshBefore.duration
        if let token = cached.withLock({ $0 }), ContinuousClock.now + margin < token.expires { return token.value }
        return try await fetching.run {
            if let token = self.cached.withLock({ $0 }), ContinuousClock.now + margin < token.expires { return token.value }
            let fresh = try await self.fetchToken()
            self.cached.withLock { $0 = fresh }
            return fresh.value
        }
    }

    private func fetchToken() async throws -> Token {
        func form(_ value: String) -> String {
            var allowed = CharacterSet.alphanumerics
            allowed.insert(charactersIn: "-._~")
            return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
        }
        var body = "grant_type=client_credentials&client_id=\(form(auth.clientID ?? ""))&client_secret=\(form(auth.clientSecret ?? ""))"
        if let scope = auth.scope { body += "&scope=\(form(scope))" }
        let request = HTTPRequest(method: "POST", url: auth.tokenURL ?? "", headers: [
            ("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "application/json"),
        ], body: .data(Data(body.utf8)), timeout: timeout, maxResponseBytes: 1 << 16)
        let started = ContinuousClock.now
        let response: HTTPResponse
        do {
            response = try await client.perform(request)
        } catch let error as HTTPClientError {
            throw VendorCallError(error.requestSent ? .noAnswer : .notSent, vendor: vendor, message: "OAuth2 token request failed: \(error.code)")
        }
        if response.status == 401 || response.status == 400 || response.status == 403 {
            throw VendorCallError(.unauthorized, vendor: vendor, httpStatus: response.status, message: "OAuth2 token endpoint refused the client credentials")
        }
        if response.status == 429 || response.status >= 500 {
            throw VendorCallError(response.status == 429 ? .rateLimited : .server, vendor: vendor, httpStatus: response.status,
                                  message: "OAuth2 token endpoint answered \(response.status)", retryAfter: VendorHTTP.retryAfter(response))
        }
        guard (200..<300).contains(response.status),
              let object = try? JSONSerialization.jsonObject(with: response.body) as? [String: Any],
              let token = object["access_token"] as? String, !token.isEmpty else {
            throw VendorCallError(.badResponse, vendor: vendor, httpStatus: response.status, message: "OAuth2 token response has no access_token")
        }
        let ttl = (object["expires_in"] as? NSNumber)?.doubleValue ?? 3600
        return Token(value: token, expires: started + .milliseconds(Int64(ttl * 1000)))
    }
}

