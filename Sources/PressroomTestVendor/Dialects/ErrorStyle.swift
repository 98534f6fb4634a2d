import Foundation

/// How errors look: each dialect has its vendor's error body, and the
/// token endpoint speaks RFC 6749.
enum ErrorStyle: Sendable {
    case dialect(Dialect)
    case oauth

    /// Any error status with a message (faults, unknown routes, bad media types).
    func error(_ status: Int, _ message: String) -> Reply {
        switch self {
        case .oauth:
            let code = switch status {
            case 401: "invalid_client"
            case 429, 503: "temporarily_unavailable"
            case 500...: "server_error"
            default: "invalid_request"
            }
            return .json(status, ["error": .string(code), "error_description": .string(message)], headers: [("Cache-Control", "no-store")])
        case .dialect(.generic):
            return .json(status, ["error": .string(message)])
        case .dialect(.prodigi):
            return .json(status, [
                "statusCode": .int(status), "statusText": .string(Reply.phrase(status)),
                "data": ["error": .string(message)], "traceParent": .string(Self.traceParent()),
            ])
        case .dialect(.printful):
            return .json(status, [
                "code": .int(status), "result": .string(message),
                "error": ["reason": .string(Self.printfulReason(status)), "message": .string(message)],
            ])
        case .dialect(.gelato):
            return .json(status, ["code": .string(Self.gelatoCode(status)), "message": .string(message)])
        }
    }

    func unauthorized() -> Reply {
        let reply = error(401, self.isOAuth ? "unknown client or bad client secret" : "missing, unknown or expired credentials")
        return isOAuth ? reply.adding(header: "WWW-Authenticate", "Basic realm=\"pressroom-test-vendor\"")
            : reply.adding(header: "WWW-Authenticate", "Bearer realm=\"pressroom-test-vendor\", error=\"invalid_token\"")
    }

    func rateLimited(retryAfter seconds: Int) -> Reply {
        error(429, "rate limit exceeded: retry after \(seconds) s").adding(header: "Retry-After", String(seconds))
    }

    func inFlight() -> Reply {
        error(409, "a request with this key is still being processed; retry later")
    }

    func orderNotFound() -> Reply {
        switch self {
        case .dialect(.printful):
            return .json(404, ["code": 404, "result": "Not found", "error": ["reason": "NotFound", "message": "Order not found"]])
        default:
            return error(404, "order not found")
        }
    }

    /// The dialect's validation error listing every problem.
    func validationFailed(_ problems: [FieldProblem]) -> Reply {
        switch self {
        case .oauth:
            return error(400, problems.map(\.sentence).joined(separator: "; "))
        case .dialect(.generic):
            var fields: [String: JSONValue] = [:]
            for problem in problems where fields[problem.path] == nil { fields[problem.path] = .string(problem.message) }
            return .json(400, ["error": "validation failed", "fields": .object(fields)])
        case .dialect(.prodigi):
            var failures: [String: [JSONValue]] = [:]
            for problem in problems {
                failures[problem.path, default: []].append([
                    "code": .string(problem.code.rawValue), "providedValue": problem.providedValue ?? .null,
                    "description": .string(problem.message),
                ])
            }
            return .json(400, [
                "outcome": "ValidationFailed", "failures": .object(failures.mapValues(JSONValue.array)),
                "traceParent": .string(Self.traceParent()),
            ])
        case .dialect(.printful):
            return error(400, problems.map(\.sentence).joined(separator: "; "))
        case .dialect(.gelato):
            return .json(400, [
                "code": "validation_error", "message": .string(problems.map(\.sentence).joined(separator: "; ")),
                "details": .array(problems.map { ["reference": .string($0.path), "message": .string($0.message)] }),
            ])
        }
    }

    /// The `validation` fault: the field it names, or each dialect's postal code.
    func validationFault(field: String?, message: String?) -> Reply {
        let path = field ?? {
            switch self {
            case .oauth: "grant_type"
            case .dialect(.generic): "recipient.address.postalCode"
            case .dialect(.prodigi): "recipient.address.postalOrZipCode"
            case .dialect(.printful): "recipient.zip"
            case .dialect(.gelato): "shippingAddress.postCode"
            }
        }()
        return validationFailed([FieldProblem(path, .required, message ?? "required", providedValue: .null)])
    }

    private var isOAuth: Bool {
        if case .oauth = self { return true }
        return false
    }

    static func printfulReason(_ status: Int) -> String {
        switch status {
        case 400: "BadRequest"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "NotFound"
        case 409: "Conflict"
        case 429: "TooManyRequests"
        case 503: "ServiceUnavailable"
        case 500...: "InternalServerError"
        default: "BadRequest"
        }
    }

    static func gelatoCode(_ status: Int) -> String {
        switch status {
        case 400: "invalid_argument"
        case 401: "unauthenticated"
        case 403: "permission_denied"
        case 404: "not_found"
        case 409: "conflict"
        case 429: "resource_exhausted"
        case 503: "unavailable"
        case 500...: "internal"
        default: "invalid_argument"
        }
    }

    /// A W3C trace context, as Prodigi attaches to its errors.
    static func traceParent() -> String {
        let trace = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let span = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
        return "00-\(trace)-\(span)-01"
    }
}
