import Foundation
@testable import PressroomDaemon
import PressroomQueue
import Testing
import Yams

/// Every secret may come from systemd's `$CREDENTIALS_DIRECTORY` (issue 15, item 9).
struct CredentialTests {
    /// A credentials directory as systemd makes it: one file per credential, read-only.
    static func credentials(_ files: [String: String]) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pressroom-credentials-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for (name, text) in files {
            let url = dir.appendingPathComponent(name)
            try text.write(to: url, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o400], ofItemAtPath: url.path)
        }
        return dir.path
    }

    static func vendorsFile(_ text: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("pressroom-vendors-\(UUID().uuidString.prefix(8)).yaml")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    static let vendors = """
        vendors:
          lab:
            adapter: idempotency-key
            baseURL: "https://lab.example"
            auth: { kind: api-key, apiKey: "credential:lab-key" }
            products: { print-4x6: P }
            countries: { DE: { priority: 1 } }
            webhooks: { verify: shared-secret, secret: "credential:lab-webhook" }
          oauth:
            adapter: gelato
            baseURL: "https://oauth.example"
            auth: { kind: oauth2, tokenURL: "https://oauth.example/token", clientID: c, clientSecret: "credential:oauth-secret" }
            products: { print-4x6: P }
            countries: { DE: { priority: 2 } }
        """

    @Test func everyFieldNamedLikeASecretGoesThroughTheSecretSources() throws {
        // The exemplar sets every optional field, so its encoding lists every path.
        var exemplar = ConfigurationLoader.schemaExemplar
        exemplar.vendors["x"]?.webhooks = .init(verify: .sharedSecret, secret: "x")
        let tree = try #require(try Yams.load(yaml: YAMLEncoder().encode(exemplar)) as? [String: Any])
        func leaves(_ node: Any, _ path: [String]) -> [[String]] {
            if let map = node as? [String: Any] { return map.flatMap { leaves($0.value, path + [$0.key]) } }
            return [path]
        }
        let secretNamed = leaves(tree, []).filter { path in
            let name = path.last!.lowercased()
            return name.contains("secret") || name.contains("password") || name.hasSuffix("token") || name == "apikey" || name == "accesskeyid"
        }.map { $0.joined(separator: ".") }
        var visited: [String] = []
        exemplar.visitSecrets { _, field in visited.append(field) }
        #expect(!secretNamed.isEmpty)
        #expect(Set(secretNamed).isSubset(of: Set(visited)), "not resolved from credentials: \(Set(secretNamed).subtracting(visited).sorted())")
    }

    @Test func vendorAndRedisSecretsComeFromTheCredentialsDirectory() throws {
        let creds = try Self.credentials(["lab-key": "lab-secret-key\n", "lab-webhook": "lab-hmac", "oauth-secret": "oauth-client-secret",
                                          "redis-password": "redis-pw-1"])
        let loaded = try ConfigurationLoader().load(file: nil, environment: [
            "CREDENTIALS_DIRECTORY": creds, "PRESSROOM_FULFILLMENT_VENDORS": try Self.vendorsFile(Self.vendors),
            "PRESSROOM_REDIS_URL": "redis://127.0.0.1:6390/0", "PRESSROOM_REDIS_PASSWORD": "credential:redis-password",
        ])
        let c = loaded.configuration
        #expect(c.vendors["lab"]?.auth.apiKey == "lab-secret-key")
        #expect(c.vendors["lab"]?.webhooks?.secret == "lab-hmac")
        #expect(c.vendors["oauth"]?.auth.clientSecret == "oauth-client-secret")
        #expect(try c.endpoint.password == "redis-pw-1")
        let masked = try YAMLEncoder().encode(c.masked)
        for secret in ["lab-secret-key", "lab-hmac", "oauth-client-secret", "redis-pw-1"] {
            #expect(!masked.contains(secret), "\(secret) masked")
        }
        #expect {
            _ = try ConfigurationLoader().load(file: nil, environment: [
                "CREDENTIALS_DIRECTORY": creds, "PRESSROOM_FULFILLMENT_VENDORS": try Self.vendorsFile(Self.vendors.replacingOccurrences(of: "credential:lab-key", with: "credential:nope")),
            ])
        } throws: { "\($0)" == "config field 'vendors.lab.auth.apiKey': credential 'nope' in $CREDENTIALS_DIRECTORY cannot be read" }
    }
}

/// `redis.cluster` instead of `redis.url`: seeds, a password from a secret source, errors naming the field.
struct ClusterConfigurationTests {
    @Test func aClusterIsConfiguredBySeedsAndASecretPassword() throws {
        let creds = try CredentialTests.credentials(["cluster-pw": "cluster-secret-1\n"])
        let loaded = try ConfigurationLoader().load(file: nil, environment: [
            "CREDENTIALS_DIRECTORY": creds,
            "PRESSROOM_REDIS_CLUSTER_SEEDS": "[10.0.0.1:7000, 'redis-2.internal:7001']",
            "PRESSROOM_REDIS_CLUSTER_PASSWORD": "credential:cluster-pw",
        ])
        let topology = try loaded.configuration.redisTopology
        #expect(topology == .cluster(RedisClusterConfiguration(
            seeds: [RedisClusterNode(host: "10.0.0.1", port: 7000), RedisClusterNode(host: "redis-2.internal", port: 7001)],
            password: "cluster-secret-1")))
        #expect(!topology.description.contains("cluster-secret-1"))
        let masked = try YAMLEncoder().encode(loaded.configuration.masked)
        #expect(!masked.contains("cluster-secret-1") && masked.contains("10.0.0.1:7000"), "\(masked)")
    }

    @Test func aWrongClusterSectionNamesItsField() throws {
        func problem(_ environment: [String: String]) -> String? {
            do {
                _ = try ConfigurationLoader().load(file: nil, environment: environment)
                return nil
            } catch {
                return "\(error)"
            }
        }
        #expect(problem(["PRESSROOM_REDIS_CLUSTER_SEEDS": "[10.0.0.1]"]) == "config field 'redis.cluster.seeds': '10.0.0.1' is not host:port")
        #expect(problem(["PRESSROOM_REDIS_CLUSTER_PASSWORD": "x"])?.hasPrefix("config field 'redis.cluster.seeds'") == true)
        #expect(problem(["PRESSROOM_REDIS_CLUSTER_SEEDS": "[10.0.0.1:7000]", "PRESSROOM_REDIS_URL": "redis://10.0.0.9:6379/0"])
            == "config field 'redis.cluster': is an alternative to redis.url and redis.sentinel: set one of them")
    }
}

extension DaemonProcessTests {
    @Test func theRealBinaryReadsSecretsFromCredentialsDirectory() async throws {
        let namespace = "creds-\(UUID().uuidString.prefix(8))"
        let s3 = try moto()
        let creds = try CredentialTests.credentials([
            "redis-url": Self.redisURL + "\n", "lab-key": "lab-secret-key", "lab-webhook": "lab-hmac", "oauth-secret": "oauth-client-secret",
            "s3-key": s3.accessKey, "s3-secret": s3.secretKey,
        ])
        let env = [
            "CREDENTIALS_DIRECTORY": creds, "PRESSROOM_REDIS_URL": "credential:redis-url",
            "PRESSROOM_FULFILLMENT_VENDORS": try CredentialTests.vendorsFile(CredentialTests.vendors),
            "PRESSROOM_STORAGE_BACKEND": "s3", "PRESSROOM_STORAGE_S3_ENDPOINT": s3.endpoint, "PRESSROOM_STORAGE_S3_BUCKET": s3.bucket,
            "PRESSROOM_STORAGE_S3_ADDRESSING_STYLE": "path", "PRESSROOM_STORAGE_S3_REGION": "us-east-1",
            "PRESSROOM_STORAGE_S3_ACCESS_KEY_ID": "credential:s3-key", "PRESSROOM_STORAGE_S3_SECRET_ACCESS_KEY": "credential:s3-secret",
        ]
        let check = try await cli(["config", "check"], namespace: namespace, env: env)
        #expect(check.status == 0, "\(check.output)")
        for secret in ["lab-secret-key", "lab-hmac", "oauth-client-secret", s3.secretKey] {
            #expect(!check.output.contains(secret), "config check prints no secret")
        }
        // The S3 keys from the credentials sign real requests (moto checks signatures).
        let photo = FileManager.default.temporaryDirectory.appendingPathComponent("pressroom-cred-\(namespace).bin")
        try Data("credentials".utf8).write(to: photo)
        let put = try await cli(["store", "put", "uploads/\(namespace).bin", photo.path], namespace: namespace, env: env.merging(["PRESSROOM_CONFIG": Self.root.appendingPathComponent("config/pressroom.example.yaml").path]) { a, _ in a })
        #expect(put.status == 0 && put.output.contains("created"), "\(put.output)")
        // The worker reaches Redis through the URL in the credential.
        let worker = try UnitProcess(arguments: ["run", "--consumer", "creds"], environment: env.merging([
            "PRESSROOM_REDIS_NAMESPACE": namespace, "PRESSROOM_ADMIN_ENABLED": "false", "PRESSROOM_DIAGNOSTICS": "true",
        ]) { _, b in b })
        try await eventually(timeout: .seconds(60), "worker ready") { worker.output.contains("worker ready") }
        worker.signal(SIGTERM)
        #expect(try await worker.waitExit() == 0, "\(worker.output)")
        for secret in ["lab-secret-key", "lab-hmac", "oauth-client-secret", s3.secretKey] {
            #expect(!worker.output.contains(secret), "the log holds no secret")
        }
    }
}
