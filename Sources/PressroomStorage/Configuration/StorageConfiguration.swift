/// The daemon's `storage:` section: which store to use and its settings.
///
/// ```yaml
/// storage:
///   backend: s3            # or filesystem (the default)
///   filesystem: { root: var/objects }
///   s3: { endpoint: "http://127.0.0.1:9000", region: us-east-1, bucket: masters, addressingStyle: path }
/// ```
public struct StorageConfiguration: Sendable, Codable, Equatable {
    public enum Backend: String, Sendable, Codable, Equatable {
        case filesystem
        case s3
        /// Objects in memory, lost on exit: for tests and dry runs only.
        case memory
    }

    public var backend: Backend
    public var filesystem: FileSystemStoreConfiguration?
    public var s3: S3Configuration?

    public init(backend: Backend, filesystem: FileSystemStoreConfiguration? = nil, s3: S3Configuration? = nil) {
        self.backend = backend
        self.filesystem = filesystem
        self.s3 = s3
    }

    /// The quick-start default: objects under `var/objects` in the working directory.
    public static let quickStart = StorageConfiguration(backend: .filesystem, filesystem: FileSystemStoreConfiguration(root: "var/objects"))

    enum CodingKeys: String, CodingKey { case backend, filesystem, s3 }

    /// Without `backend`, an `s3` section selects S3 and anything else the filesystem.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        filesystem = try c.decodeIfPresent(FileSystemStoreConfiguration.self, forKey: .filesystem)
        s3 = try c.decodeIfPresent(S3Configuration.self, forKey: .s3)
        backend = try c.decodeIfPresent(Backend.self, forKey: .backend) ?? (s3 != nil ? .s3 : .filesystem)
    }
}
