import FlyingFox
import Foundation

/// OAuth 2.0 client credentials (RFC 6749 §4.4): `POST /oauth/token` (also
/// under each dialect's prefix) with a form body, the client authenticated
/// by HTTP Basic or by `client_id`/`client_secret` form fields.
enum TokenEndpoint {
    static let style = ErrorStyle.oauth

    struct Form: Sendable {
        var fields: [String: String]
        var clientID: String?
        var clientSecret: String?
    }

    /// The form and the client's credentials, or the error to answer.
    static func parse(_ request: FlyingFox.HTTPRequest, body: Data) -> Result<Form, Refusal> {
        let type = request.headers[.contentType]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
        guard type == "application/x-www-form-urlencoded" else {
            return .failure(Refusal(reply: style.error(400, "Content-Type must be application/x-www-form-urlencoded")))
        }
        let fields = decodeForm(String(decoding: body, as: UTF8.self))
        var form = Form(fields: fields, clientID: fields["client_id"], clientSecret: fields["client_secret"])
        if let authorization = request.headers[.authorization] {
            guard authorization.lowercased().hasPrefix("basic "),
                  let decoded = Data(base64Encoded: String(authorization.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
                  let pair = String(data: decoded, encoding: .utf8), let colon = pair.firstIndex(of: ":")
            else {
                return .failure(Refusal(reply: style.unauthorized()))
            }
            // RFC 6749 §2.3.1: both halves are form-encoded before base64.
            form.clientID = percentDecode(String(pair[..<colon]))
            form.clientSecret = percentDecode(String(pair[pair.index(after: colon)...]))
        }
        return .success(form)
    }

    static func issue(_ call: APICall, form: Form) async -> Reply {
        await call.pause()
        guard form.fields["grant_type"] == "client_credentials" else {
            return .json(400, ["error": "unsupported_grant_type", "error_description": "only client_credentials is supported"],
                         headers: [("Cache-Control", "no-store")])
        }
        guard let (token, ttl) = await call.store.issueToken(for: call.account) else { return style.unauthorized() }
        return .json(200, ["access_token": .string(token), "token_type": "Bearer", "expires_in": .int(ttl)],
                     headers: [("Cache-Control", "no-store"), ("Pragma", "no-cache")])
    }

    static func decodeForm(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = percentDecode(String(parts[0])) else { continue }
            fields[name] = parts.count > 1 ? percentDecode(String(parts[1])) ?? "" : ""
        }
        return fields
    }

    static func percentDecode(_ text: String) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }
}
