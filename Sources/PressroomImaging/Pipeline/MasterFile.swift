import Foundation

/// A print master spooled to a file: encoded once, hashed while it was written, never held
/// in memory whole. The caller stores the file and then removes it.
public struct MasterFile: Sendable {
    public var key: String
    public var file: URL
    public var contentType: String
    public var byteCount: Int
    /// Hex SHA-256 of the file's bytes, for a store that can take a known checksum.
    public var sha256: String
    public var policy: String
}
