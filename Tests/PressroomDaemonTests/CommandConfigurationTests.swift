import Foundation
import Logging
import PressroomStorage
import Testing

/// Every command with `--config` resolves it as `pressroom run` does (issue 15, item 1).
extension DaemonProcessTests {
    /// The moto server `scripts/services/s3.sh` started; a missing variable names the service.
    func moto() throws -> (endpoint: String, accessKey: String, secretKey: String, bucket: String) {
        let env = ProcessInfo.processInfo.environment
        func value(_ name: String) throws -> String {
            try #require(env["PRESSROOM_TEST_S3_\(name)"],
                         "s3 (moto): PRESSROOM_TEST_S3_\(name) is not set: run scripts/test.sh, or eval \"$(bash scripts/services/s3.sh start)\" first")
        }
        return (try value("ENDPOINT"), try value("ACCESS_KEY"), try value("SECRET_KEY"), try value("BUCKET"))
    }

    @Test func storeCommandsApplyTheEnvironmentOverridesLikeTheDaemon() async throws {
        let s3 = try moto()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pressroom-storecli-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let root = dir.appendingPathComponent("objects").path
        let config = dir.appendingPathComponent("pressroom.yaml")
        try "storage:\n  backend: filesystem\n  filesystem: { root: \"\(root)\" }\n".write(to: config, atomically: true, encoding: .utf8)
        let photo = dir.appendingPathComponent("photo.jpg")
        let bytes = Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        try bytes.write(to: photo)
        let key = "uploads/cli-\(UUID().uuidString.prefix(8)).jpg"
        let env = [
            "PRESSROOM_STORAGE_BACKEND": "s3", "PRESSROOM_STORAGE_S3_ENDPOINT": s3.endpoint, "PRESSROOM_STORAGE_S3_BUCKET": s3.bucket,
            "PRESSROOM_STORAGE_S3_REGION": "us-east-1", "PRESSROOM_STORAGE_S3_ADDRESSING_STYLE": "path",
            "PRESSROOM_STORAGE_S3_ACCESS_KEY_ID": s3.accessKey, "PRESSROOM_STORAGE_S3_SECRET_ACCESS_KEY": s3.secretKey,
        ]

        let put = try await cli(["store", "put", "--config", config.path, key, photo.path], namespace: "storecli", env: env)
        #expect(put.status == 0, "\(put.output)")
        #expect(put.output.contains("created \(key)"))
        let remote = try makeObjectStore(configuration: StorageConfiguration(backend: .s3, s3: S3Configuration(
            endpoint: s3.endpoint, region: "us-east-1", bucket: s3.bucket, addressingStyle: .path,
            accessKeyID: s3.accessKey, secretAccessKey: s3.secretKey)), logger: Logger(label: "test"))
        #expect(try await remote.get(key) == bytes, "the object went to S3, as the environment says")
        let local = try FileSystemObjectStore(configuration: FileSystemStoreConfiguration(root: root), logger: Logger(label: "test"))
        #expect(try await local.head(key) == nil, "not into the file's filesystem store")
        // $PRESSROOM_CONFIG is honoured as by every other command.
        let head = try await cli(["store", "head", key], namespace: "storecli", env: env.merging(["PRESSROOM_CONFIG": config.path]) { a, _ in a })
        #expect(head.status == 0 && head.output.contains("4096"), "\(head.output)")

        // The same validation and the same message as `config check`.
        let broken = env.merging(["PRESSROOM_QUEUES_DERIVE_CONCURRENCY": "0"]) { a, _ in a }
        let message = "config field 'queues.derive.concurrency': must be 1-1024"
        let store = try await cli(["store", "head", "--config", config.path, key], namespace: "storecli", env: broken)
        let check = try await cli(["config", "check", "--config", config.path], namespace: "storecli", env: broken)
        #expect(store.status != 0 && store.output.contains(message), "\(store.output)")
        #expect(check.status != 0 && check.output.contains(message), "\(check.output)")
        // Typos are errors in the file and warnings in the environment, for every command.
        let typo = try await cli(["config", "check", "--config", config.path], namespace: "storecli",
                                 env: env.merging(["PRESSROOM_STORAGE_S3_BUCKETT": "b"]) { a, _ in a })
        #expect(typo.status == 0 && typo.output.contains("# warning: $PRESSROOM_STORAGE_S3_BUCKETT matches no config field; did you mean $PRESSROOM_STORAGE_S3_BUCKET?"),
                "\(typo.output)")
        let misspelt = dir.appendingPathComponent("misspelt.yaml")
        try "storage:\n  backend: filesystem\n  filesystm: { root: \"\(root)\" }\n".write(to: misspelt, atomically: true, encoding: .utf8)
        let unknown = "config field 'storage.filesystm': unknown key; did you mean 'filesystem'?"
        let storeTypo = try await cli(["store", "head", "--config", misspelt.path, key], namespace: "storecli")
        let checkTypo = try await cli(["config", "check", "--config", misspelt.path], namespace: "storecli")
        #expect(storeTypo.status != 0 && storeTypo.output.contains(unknown), "\(storeTypo.output)")
        #expect(checkTypo.status != 0 && checkTypo.output.contains(unknown), "\(checkTypo.output)")
        try await remote.delete(key)
    }
}
