/// Scrubs secrets and a customer's personal data from text that may end up
/// in logs, events or dead letters (vendors echo fields back in errors).
public struct Redactor: Sendable {
    private let values: [String]

    public init(_ values: [String]) {
        // Longest first, so a street line is removed before a name inside it.
        self.values = Array(Set(values.filter { $0.count >= 3 })).sorted { $0.count > $1.count }
    }

    public func callAsFunction(_ text: String) -> String {
        var result = text
        for value in values where result.contains(value) {
            result = result.replacingOccurrences(of: value, with: "[redacted]")
        }
        // Escaped forms, as they appear inside JSON bodies.
        for value in values where value.contains("/") || value.contains("\"") {
            let escaped = value.replacingOccurrences(of: "/", with: "\\/").replacingOccurrences(of: "\"", with: "\\\"")
            result = result.replacingOccurrences(of: escaped, with: "[redacted]")
        }
        return result
    }

    public func adding(_ more: [String]) -> Redactor { Redactor(values + more) }

    var count: Int { values.count }
}
