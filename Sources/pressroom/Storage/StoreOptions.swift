import ArgumentParser
import Foundation
import Logging
import PressroomDaemon
import PressroomStorage

/// Where the store commands find their object store: `--config FILE` (or
/// `$PRESSROOM_CONFIG`: the daemon's config with its `PRESSROOM_…` overrides,
/// exactly as `pressroom run` resolves it), or S3 options and `AWS_*`
/// environment variables, or `--root DIR` for the filesystem store.
struct StoreOptions: ParsableArguments {
    @Option(help: "The daemon's YAML config (env PRESSROOM_CONFIG); its `storage:` section with PRESSROOM_STORAGE_… overrides applied.")
    var config: String?

    @Option(help: "S3 endpoint URL (default: AWS_ENDPOINT_URL, else https://s3.<region>.amazonaws.com).")
    var endpoint: String?

    @Option(help: "S3 region (default: AWS_REGION, AWS_DEFAULT_REGION, else us-east-1).")
    var region: String?

    @Option(help: "S3 bucket.")
    var bucket: String?

    @Flag(help: "Path-style addressing (endpoint/bucket/key) instead of virtual-hosted (bucket.endpoint/key).")
    var pathStyle = false

    @Option(help: "Use the local filesystem store rooted here instead of S3.")
    var root: String?

    func validate() throws {
        if configFile == nil && bucket == nil && root == nil {
            throw ValidationError("give --config FILE (or $PRESSROOM_CONFIG), --bucket NAME (S3) or --root DIR (filesystem)")
        }
    }

    /// `--config`, else `$PRESSROOM_CONFIG` unless S3 or filesystem options say otherwise.
    private var configFile: String? {
        config ?? (bucket == nil && root == nil ? ProcessInfo.processInfo.environment["PRESSROOM_CONFIG"] : nil)
    }

    func storageConfiguration() throws -> StorageConfiguration {
        if let configFile {
            return try ConfigOptions.load(file: configFile).configuration.storage
        }
        if let root {
            return StorageConfiguration(backend: .filesystem, filesystem: FileSystemStoreConfiguration(root: root))
        }
        let env = ProcessInfo.processInfo.environment
        let region = region ?? env["AWS_REGION"] ?? env["AWS_DEFAULT_REGION"] ?? "us-east-1"
        let endpoint = endpoint ?? env["AWS_ENDPOINT_URL"] ?? "https://s3.\(region).amazonaws.com"
        return StorageConfiguration(
            backend: .s3,
            s3: S3Configuration(endpoint: endpoint, region: region, bucket: bucket!, addressingStyle: pathStyle ? .path : .virtualHosted)
        )
    }

    func makeStore() throws -> any ObjectStore {
        try makeObjectStore(configuration: try storageConfiguration(), logger: Logger(label: "pressroom.store"))
    }
}
