/// Settings of the local-filesystem store (the quick-start default).
public struct FileSystemStoreConfiguration: Sendable, Codable, Equatable {
    /// Directory holding `objects/`, `meta/` and `tmp/`; created if missing.
    public var root: String
    /// Threads doing the blocking file I/O.
    public var ioThreads: Int

    public init(root: String, ioThreads: Int = 4) {
        self.root = root
        self.ioThreads = ioThreads
    }

    enum CodingKeys: String, CodingKey { case root, ioThreads }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        root = try container.decode(String.self, forKey: .root)
        ioThreads = try container.decodeIfPresent(Int.self, forKey: .ioThreads) ?? 4
    }
}
