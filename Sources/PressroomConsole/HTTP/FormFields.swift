import Foundation

/// `application/x-www-form-urlencoded` fields (query strings and POST
/// bodies), repeated names kept: browsers send `+` for spaces, which
/// FlyingFox's query items leave as is.
struct FormFields: Sendable {
    private(set) var pairs: [(String, String)] = []

    init(_ encoded: String) {
        for part in encoded.split(separator: "&") where !part.isEmpty {
            let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            pairs.append((Self.decode(kv[0]), kv.count > 1 ? Self.decode(kv[1]) : ""))
        }
    }

    private static func decode(_ text: Substring) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }

    subscript(_ name: String) -> String? {
        pairs.first { $0.0 == name }.map(\.1)
    }

    /// The value, trimmed, or nil when absent or blank.
    func text(_ name: String, maxLength: Int = 200) -> String? {
        guard let value = self[name]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        return String(value.prefix(maxLength))
    }

    func all(_ name: String) -> [String] {
        pairs.filter { $0.0 == name }.map(\.1)
    }

    /// An integer clamped to `range`; the default when absent or not a number.
    func int(_ name: String, default value: Int, in range: ClosedRange<Int>) -> Int {
        guard let text = self[name], let number = Int(text) else { return value }
        return min(range.upperBound, max(range.lowerBound, number))
    }

    /// Percent-encodes a query value (RFC 3986 unreserved characters kept).
    static func encode(_ value: String) -> String {
        let allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }

    static func query(_ items: [(String, String?)]) -> String {
        items.compactMap { name, value in value.map { "\(encode(name))=\(encode($0))" } }.joined(separator: "&")
    }
}
