import Foundation

/// A misbehaviour queued for an account's next matching request(s).
struct Fault: Sendable, Equatable {
    enum Action: String, Sendable, CaseIterable {
        /// Do the work (create the order), then hold the response.
        case hangAfterAccept = "hang-after-accept"
        /// Do the work, then close the connection without a response.
        case dropAfterAccept = "drop-after-accept"
        /// Answer with `status` instead of doing the work.
        case status
        /// 429 with `Retry-After`.
        case rateLimit = "rate-limit"
        /// The dialect's validation error.
        case validation
        /// 401, and the account's OAuth tokens are revoked.
        case unauthorized
        /// Wait `delayMs`, then handle the request normally.
        case slow
    }

    /// `nil` matches every operation (`"any"`).
    var operation: Operation?
    var action: Action
    /// Requests left that this fault applies to.
    var remaining: Int
    var status: Int
    /// `Retry-After` seconds: always sent with `rate-limit` (default 1), with `status` only when given.
    var retryAfterSeconds: Int?
    var holdMilliseconds: Int
    var delayMilliseconds: Int
    /// For `validation`: the field path and message to report.
    var field: String?
    var message: String?

    func matches(_ operation: Operation) -> Bool {
        self.operation == nil || self.operation == operation
    }

    /// The longest hold or delay a test may ask for.
    static let maxWaitMilliseconds = 600_000

    static let allowedKeys: Set<String> = [
        "operation", "action", "count", "status", "retryAfter", "holdMs", "delayMs", "field", "message",
    ]

    /// Parses `{"operation","action","count",…}`; the error names the bad field.
    static func parse(_ value: JSONValue) throws(ControlError) -> Fault {
        guard let object = value.objectValue else { throw .badRequest("a fault is a JSON object") }
        if let unknown = object.keys.sorted().first(where: { !allowedKeys.contains($0) }) {
            throw .badRequest("unknown fault field \"\(unknown)\"")
        }
        let operation: Operation?
        switch object["operation"]?.stringValue ?? "any" {
        case "any": operation = nil
        case let name:
            guard let known = Operation(rawValue: name) else {
                throw .badRequest("operation must be one of create, lookup, confirm, search, token, any")
            }
            operation = known
        }
        guard let actionName = object["action"]?.stringValue, let action = Action(rawValue: actionName) else {
            throw .badRequest("action must be one of \(Action.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        func integer(_ key: String, default fallback: Int, range: ClosedRange<Int>) throws(ControlError) -> Int {
            guard let raw = object[key], raw != .null else { return fallback }
            guard let number = raw.intValue, range.contains(number) else {
                throw .badRequest("\(key) must be an integer in \(range.lowerBound)...\(range.upperBound)")
            }
            return number
        }
        let status = try integer("status", default: 0, range: 400...599)
        if action == .status, object["status"] == nil {
            throw .badRequest("action \"status\" needs \"status\" (400-599)")
        }
        return Fault(
            operation: operation,
            action: action,
            remaining: try integer("count", default: 1, range: 1...1_000_000),
            status: status,
            retryAfterSeconds: object["retryAfter"] == nil && action != .rateLimit
                ? nil : try integer("retryAfter", default: 1, range: 0...86_400),
            holdMilliseconds: try integer("holdMs", default: 30_000, range: 0...maxWaitMilliseconds),
            delayMilliseconds: try integer("delayMs", default: 1_000, range: 0...maxWaitMilliseconds),
            field: object["field"]?.stringValue,
            message: object["message"]?.stringValue
        )
    }

    var json: JSONValue {
        var object: [String: JSONValue] = [
            "operation": .string(operation?.rawValue ?? "any"),
            "action": .string(action.rawValue),
            "count": .int(remaining),
        ]
        switch action {
        case .status: object["status"] = .int(status); object["retryAfter"] = retryAfterSeconds.map(JSONValue.int) ?? .null
        case .rateLimit: object["retryAfter"] = .int(retryAfterSeconds ?? 1)
        case .hangAfterAccept: object["holdMs"] = .int(holdMilliseconds)
        case .slow: object["delayMs"] = .int(delayMilliseconds)
        case .validation: object["field"] = .optional(field); object["message"] = .optional(message)
        case .dropAfterAccept, .unauthorized: break
        }
        return .object(object)
    }
}
