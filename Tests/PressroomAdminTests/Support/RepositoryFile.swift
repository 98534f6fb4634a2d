import Foundation

/// Reads a file of this repository relative to its root (found from this
/// source file's path), for tests of the shipped config and docs.
enum RepositoryFile {
    static let root: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
                return url
            }
        }
        fatalError("no Package.swift above \(#filePath)")
    }()

    static func text(_ path: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
    }

    /// `pressroom_*` metric names used in a PromQL expression, with the
    /// histogram series suffixes removed.
    static func metricNames(in expression: String) -> Set<String> {
        let regex = try! NSRegularExpression(pattern: "pressroom_[a-z0-9_]+")
        let range = NSRange(expression.startIndex..., in: expression)
        var names = Set<String>()
        for match in regex.matches(in: expression, range: range) {
            var name = String(expression[Range(match.range, in: expression)!])
            for suffix in ["_bucket", "_count", "_sum"] where name.hasSuffix(suffix) && name.hasSuffix("_seconds" + suffix) {
                name.removeLast(suffix.count)
            }
            names.insert(name)
        }
        return names
    }
}
