import Logging

/// Builds the configured store; the daemon and the CLI share it.
public enum ObjectStoreFactory {
    public static func makeObjectStore(configuration: StorageConfiguration, logger: Logger) throws -> any ObjectStore {
        switch configuration.backend {
        case .filesystem:
            let settings = configuration.filesystem ?? StorageConfiguration.quickStart.filesystem!
            return try FileSystemObjectStore(configuration: settings, logger: logger)
        case .s3:
            guard let settings = configuration.s3 else {
                throw ObjectStoreError(.invalidConfiguration, "storage backend is s3 but the s3 section is missing")
            }
            return try S3ObjectStore(configuration: settings, logger: logger)
        case .memory:
            return InMemoryObjectStore()
        }
    }
}

/// Free-function spelling of ``ObjectStoreFactory/makeObjectStore(configuration:logger:)``.
public func makeObjectStore(configuration: StorageConfiguration, logger: Logger) throws -> any ObjectStore {
    try ObjectStoreFactory.makeObjectStore(configuration: configuration, logger: logger)
}
