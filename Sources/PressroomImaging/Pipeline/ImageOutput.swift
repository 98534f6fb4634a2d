import Foundation

/// One object to store: its deterministic key, bytes and content type.
public struct ImageOutput: Sendable, Equatable {
    public var key: String
    public var data: Data
    public var contentType: String
    /// The policy that produced it (nil for the report).
    public var policy: String?
}
