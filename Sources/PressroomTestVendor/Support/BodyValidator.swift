import Foundation
import Synchronization

/// Walks a JSON request body and collects every problem at once (strict
/// vendors report all failing fields, not just the first).
struct BodyValidator {
    private(set) var problems: [FieldProblem] = []
    /// Reject fields the dialect does not define (our own generic dialect);
    /// the real vendors' dialects ignore them, as those APIs do.
    let rejectsUnknownFields: Bool

    init(rejectsUnknownFields: Bool) {
        self.rejectsUnknownFields = rejectsUnknownFields
    }

    mutating func fail(_ path: String, _ code: FieldProblem.Code, _ message: String, providedValue: JSONValue? = nil) {
        problems.append(FieldProblem(path, code, message, providedValue: providedValue))
    }

    /// Compiled patterns: the dialects use a handful of constant ones, and
    /// `range(of:options: .regularExpression)` compiled one (ICU) per field.
    private static let compiled = Mutex<[String: NSRegularExpression]>([:])

    static func matches(_ text: String, _ pattern: String) -> Bool {
        let regex = compiled.withLock { cache -> NSRegularExpression? in
            if let hit = cache[pattern] { return hit }
            guard let made = try? NSRegularExpression(pattern: pattern) else { return nil }
            cache[pattern] = made
            return made
        }
        guard let regex else { return false }
        return regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }

    static func join(_ base: String, _ key: String) -> String {
        base.isEmpty ? key : "\(base).\(key)"
    }

    /// The object at `path`, or `nil` (with a problem) when it is absent or not an object.
    mutating func object(_ value: JSONValue?, at path: String, allowed: Set<String>? = nil, required: Bool = true) -> [String: JSONValue]? {
        guard let value, value != .null else {
            if required { fail(path, .required, "required") }
            return nil
        }
        guard let object = value.objectValue else {
            fail(path, .invalid, "must be an object")
            return nil
        }
        if rejectsUnknownFields, let allowed {
            for key in object.keys.sorted() where !allowed.contains(key) {
                fail(Self.join(path, key), .unknownField, "unknown field")
            }
        }
        return object
    }

    /// A non-empty string (after trimming), at most `maxLength` characters.
    @discardableResult
    mutating func string(_ object: [String: JSONValue], _ key: String, at base: String, required: Bool = true,
                         maxLength: Int = 256, pattern: String? = nil, oneOf: [String]? = nil) -> String? {
        let path = Self.join(base, key)
        guard let value = object[key], value != .null else {
            if required { fail(path, .required, "required", providedValue: .null) }
            return nil
        }
        guard let text = value.stringValue else {
            fail(path, .invalid, "must be a string", providedValue: value)
            return nil
        }
        // `Character.isWhitespace` (Unicode White_Space) is the set that
        // `.whitespacesAndNewlines` names, without building a CharacterSet (ICU).
        if text.allSatisfy(\.isWhitespace) {
            if required { fail(path, .required, "must not be empty", providedValue: value) }
            return required ? nil : text
        }
        if text.count > maxLength {
            fail(path, .invalid, "longer than \(maxLength) characters")
            return nil
        }
        if let oneOf, !oneOf.contains(text) {
            fail(path, .invalid, "must be one of \(oneOf.joined(separator: ", "))", providedValue: value)
            return nil
        }
        if let pattern, !Self.matches(text, pattern) {
            fail(path, .invalid, "has an invalid format", providedValue: value)
            return nil
        }
        return text
    }

    /// An integer of at least `minimum`.
    @discardableResult
    mutating func integer(_ object: [String: JSONValue], _ key: String, at base: String, required: Bool = true, minimum: Int = 1) -> Int? {
        let path = Self.join(base, key)
        guard let value = object[key], value != .null else {
            if required { fail(path, .required, "required", providedValue: .null) }
            return nil
        }
        guard let number = value.intValue else {
            fail(path, .invalid, "must be an integer", providedValue: value)
            return nil
        }
        guard number >= minimum else {
            fail(path, .invalid, "must be at least \(minimum)", providedValue: value)
            return nil
        }
        return number
    }

    /// A non-empty array; `nil` (with a problem) otherwise.
    mutating func array(_ object: [String: JSONValue], _ key: String, at base: String, required: Bool = true) -> [JSONValue]? {
        let path = Self.join(base, key)
        guard let value = object[key], value != .null else {
            if required { fail(path, .required, "required") }
            return nil
        }
        guard let array = value.arrayValue else {
            fail(path, .invalid, "must be an array")
            return nil
        }
        if array.isEmpty, required {
            fail(path, .required, "must not be empty")
            return nil
        }
        return array
    }

    /// An absolute http(s) URL.
    @discardableResult
    mutating func url(_ object: [String: JSONValue], _ key: String, at base: String, required: Bool = true) -> String? {
        guard let text = string(object, key, at: base, required: required, maxLength: 8192) else { return nil }
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              url.host?.isEmpty == false
        else {
            fail(Self.join(base, key), .invalid, "must be an absolute http or https URL")
            return nil
        }
        return text
    }
}
