/// Validation of object keys shared by both stores.
enum ObjectKey {
    /// S3's limit; the filesystem store applies it too so keys stay portable.
    static let maxBytes = 1024

    /// Rejects keys that could escape a root directory or that S3 and a
    /// filesystem would treat differently: empty, too long, NUL, absolute,
    /// `.`/`..` or empty segments.
    static func validate(_ key: String) throws {
        func invalid(_ why: String) -> ObjectStoreError {
            ObjectStoreError(.invalidKey, "invalid object key \(String(reflecting: String(key.prefix(200)))): \(why)")
        }
        if key.isEmpty { throw invalid("empty") }
        if key.utf8.count > maxBytes { throw invalid("longer than \(maxBytes) bytes") }
        if key.utf8.contains(0) { throw invalid("contains NUL") }
        if key.hasPrefix("/") { throw invalid("absolute path") }
        for segment in key.split(separator: "/", omittingEmptySubsequences: false) {
            if segment.isEmpty { throw invalid("empty path segment") }
            if segment == "." || segment == ".." { throw invalid("'.' or '..' segment") }
            if segment.utf8.count > 255 { throw invalid("path segment longer than 255 bytes") }
        }
    }
}
