/// One reason a request is refused, named by the path of the field
/// (`recipient.address.postalCode`, `items[0].assets[1].url`), so each
/// dialect can answer with its own validation error.
struct FieldProblem: Sendable, Hashable {
    enum Code: String, Sendable {
        case required = "Required"
        case invalid = "InvalidValue"
        case unknownField = "UnknownField"
        case downloadFailed = "DownloadFailed"
        case checksumMismatch = "ChecksumMismatch"
        case notAllowed = "NotAllowed"
    }

    var path: String
    var code: Code
    var message: String
    /// What the client sent (Prodigi echoes it); `nil` for secrets and URLs.
    var providedValue: JSONValue?

    init(_ path: String, _ code: Code, _ message: String, providedValue: JSONValue? = nil) {
        self.path = path
        self.code = code
        self.message = message
        self.providedValue = providedValue
    }

    /// `path: message`, for dialects whose errors are one sentence.
    var sentence: String { path.isEmpty ? message : "\(path): \(message)" }
}
