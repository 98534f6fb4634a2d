/// How a test defines an account: `POST /_control/accounts`.
struct AccountSpec: Sendable, Equatable {
    var id: String
    var apiKey: String?
    var bearerToken: String?
    var clientId: String?
    var clientSecret: String?
    /// Lifetime of issued OAuth tokens.
    var tokenTTLSeconds: Int
    /// Added to every API request of the account (not to control requests).
    var latencyMilliseconds: Int

    static let allowedKeys: Set<String> = ["id", "apiKey", "bearerToken", "clientId", "clientSecret", "tokenTTL", "latencyMs"]

    static func parse(_ value: JSONValue) throws(ControlError) -> AccountSpec {
        guard let object = value.objectValue else { throw .badRequest("an account is a JSON object") }
        if let unknown = object.keys.sorted().first(where: { !allowedKeys.contains($0) }) {
            throw .badRequest("unknown account field \"\(unknown)\"")
        }
        guard let id = object["id"]?.stringValue, id.range(of: "^[A-Za-z0-9._-]{1,128}$", options: .regularExpression) != nil else {
            throw .badRequest("id must be 1-128 characters of [A-Za-z0-9._-]")
        }
        func secret(_ key: String) throws(ControlError) -> String? {
            guard let raw = object[key], raw != .null else { return nil }
            guard let text = raw.stringValue, !text.isEmpty, text.count <= 1024,
                  text.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F })
            else { throw .badRequest("\(key) must be 1-1024 visible ASCII characters") }
            return text
        }
        func integer(_ key: String, default fallback: Int, range: ClosedRange<Int>) throws(ControlError) -> Int {
            guard let raw = object[key], raw != .null else { return fallback }
            guard let number = raw.intValue, range.contains(number) else {
                throw .badRequest("\(key) must be an integer in \(range.lowerBound)...\(range.upperBound)")
            }
            return number
        }
        let spec = AccountSpec(
            id: id,
            apiKey: try secret("apiKey"),
            bearerToken: try secret("bearerToken"),
            clientId: try secret("clientId"),
            clientSecret: try secret("clientSecret"),
            tokenTTLSeconds: try integer("tokenTTL", default: 3600, range: 1...31_536_000),
            latencyMilliseconds: try integer("latencyMs", default: 0, range: 0...Fault.maxWaitMilliseconds)
        )
        if (spec.clientId == nil) != (spec.clientSecret == nil) {
            throw .badRequest("clientId and clientSecret go together")
        }
        if spec.apiKey == nil, spec.bearerToken == nil, spec.clientId == nil {
            throw .badRequest("an account needs apiKey, bearerToken or clientId/clientSecret")
        }
        return spec
    }

    /// What the control API shows: never the secrets themselves.
    var json: JSONValue {
        [
            "id": .string(id),
            "apiKey": apiKey == nil ? false : true,
            "bearerToken": bearerToken == nil ? false : true,
            "clientId": .optional(clientId),
            "tokenTTL": .int(tokenTTLSeconds),
            "latencyMs": .int(latencyMilliseconds),
        ]
    }
}
