import ArgumentParser
import Foundation
import Logging
import PressroomStorage
import Yams

/// Where the store commands find their object store: `--config FILE` (the
/// daemon's YAML, its `storage:` section) or S3 options and `AWS_*`
/// environment variables, or `--root DIR` for the filesystem store.
struct StoreOptions: ParsableArguments {
    @Option(help: "YAML config file with a `storage:` section (or a bare storage configuration).")
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
        if config == nil && bucket == nil && root == nil {
            throw ValidationError("give --config FILE, --bucket NAME (S3) or --root DIR (filesystem)")
        }
    }

    func storageConfiguration() throws -> StorageConfiguration {
        if let config {
            let text = try String(contentsOfFile: config, encoding: .utf8)
            let node = try Yams.compose(yaml: text)
            let section = node?["storage"] ?? node
            guard let section else { throw ValidationError("\(config) is empty") }
            return try YAMLDecoder().decode(StorageConfiguration.self, from: Yams.serialize(node: section))
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
