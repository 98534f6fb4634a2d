import Foundation
import Testing

@testable import PressroomStorage

@Suite("Storage configuration, credentials, addressing")
struct StorageConfigurationTests {
    @Test func decodesMinimalS3SectionWithDefaults() throws {
        let json = #"{"s3": {"endpoint": "http://127.0.0.1:9000", "bucket": "masters", "addressingStyle": "path", "retry": {"maxAttempts": 6}}}"#
        let configuration = try JSONDecoder().decode(StorageConfiguration.self, from: Data(json.utf8))
        #expect(configuration.backend == .s3)
        let s3 = try #require(configuration.s3)
        #expect(s3.bucket == "masters")
        #expect(s3.addressingStyle == .path)
        #expect(s3.multipartPartSizeBytes == 8 << 20)
        #expect(s3.multipartConcurrency == 10)
        #expect(s3.retry.maxAttempts == 6)
        #expect(s3.retry.initialBackoffSeconds == 0.2)
        let roundTrip = try JSONDecoder().decode(StorageConfiguration.self, from: JSONEncoder().encode(configuration))
        #expect(roundTrip == configuration)
    }

    @Test func defaultsToTheFilesystemStore() throws {
        let configuration = try JSONDecoder().decode(StorageConfiguration.self, from: Data(#"{"filesystem": {"root": "/tmp/x"}}"#.utf8))
        #expect(configuration.backend == .filesystem)
        #expect(configuration.filesystem?.ioThreads == 4)
    }

    @Test func rejectsPartsBelowFiveMiB() {
        var configuration = S3Configuration(bucket: "b")
        configuration.multipartPartSizeBytes = 1 << 20
        #expect(throws: ObjectStoreError.self) { try configuration.validate() }
    }

    @Test func credentialsFromConfigThenEnvironmentThenSharedFile() throws {
        var configuration = S3Configuration(bucket: "b")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pressroom-creds-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("credentials")
        try """
            [default]
            aws_access_key_id = DEFAULTKEY
            aws_secret_access_key = defaultsecret

            [prod]
            aws_access_key_id=PRODKEY
            aws_secret_access_key=prodsecret
            aws_session_token=prodtoken
            """.write(to: file, atomically: true, encoding: .utf8)
        let fileEnv = ["AWS_SHARED_CREDENTIALS_FILE": file.path]
        #expect(try S3CredentialsResolver.resolve(configuration, environment: fileEnv).accessKeyID == "DEFAULTKEY")
        let prod = try S3CredentialsResolver.resolve(configuration, environment: fileEnv.merging(["AWS_PROFILE": "prod"]) { $1 })
        #expect(prod == SigV4Credentials(accessKeyID: "PRODKEY", secretAccessKey: "prodsecret", sessionToken: "prodtoken"))
        let env = fileEnv.merging(["AWS_ACCESS_KEY_ID": "ENVKEY", "AWS_SECRET_ACCESS_KEY": "envsecret", "AWS_SESSION_TOKEN": "envtoken"]) { $1 }
        #expect(try S3CredentialsResolver.resolve(configuration, environment: env).sessionToken == "envtoken")
        configuration.accessKeyID = "CFGKEY"
        configuration.secretAccessKey = "cfgsecret"
        #expect(try S3CredentialsResolver.resolve(configuration, environment: env).accessKeyID == "CFGKEY")
        let error = #expect(throws: ObjectStoreError.self) {
            try S3CredentialsResolver.resolve(S3Configuration(bucket: "b"), environment: ["AWS_SHARED_CREDENTIALS_FILE": dir.appendingPathComponent("none").path])
        }
        #expect(error?.code == .invalidConfiguration)
    }

    @Test func virtualHostedAndPathStylePresignedURLs() async throws {
        var configuration = S3Configuration(
            endpoint: "https://s3.eu-central-1.amazonaws.com", region: "eu-central-1", bucket: "masters",
            addressingStyle: .virtualHosted, accessKeyID: "AKID", secretAccessKey: "secret"
        )
        let virtual = try S3ObjectStore(configuration: configuration, logger: TestServers.logger)
        let url = try await virtual.presignedURL(for: "a b/c+d.jpg", method: .get, expiresIn: .seconds(60))
        #expect(url.host == "masters.s3.eu-central-1.amazonaws.com")
        #expect(url.absoluteString.hasPrefix("https://masters.s3.eu-central-1.amazonaws.com/a%20b/c%2Bd.jpg?X-Amz-Algorithm=AWS4-HMAC-SHA256"))
        #expect(!url.absoluteString.contains("secret"))
        configuration.addressingStyle = .path
        configuration.endpoint = "http://127.0.0.1:9000"
        let path = try S3ObjectStore(configuration: configuration, logger: TestServers.logger)
        let pathURL = try await path.presignedURL(for: "k", method: .put, expiresIn: .seconds(60))
        #expect(pathURL.absoluteString.hasPrefix("http://127.0.0.1:9000/masters/k?"))
        await #expect(throws: ObjectStoreError.self) { try await path.presignedURL(for: "k", method: .get, expiresIn: .seconds(8 * 86400)) }
    }

    @Test func retryDelaysStayWithinBoundsAndHonourRetryAfter() {
        let policy = S3RetryPolicy(maxAttempts: 5, initialBackoffSeconds: 0.1, maxBackoffSeconds: 1, maxRetryAfterSeconds: 5)
        for attempt in 1...10 {
            let delay = policy.delay(afterAttempt: attempt, retryAfter: nil)
            #expect(delay >= 0 && delay <= min(1, 0.1 * Double(1 << (attempt - 1))))
            #expect(policy.delay(afterAttempt: attempt, retryAfter: 3) >= 3)
            #expect(policy.delay(afterAttempt: attempt, retryAfter: 3600) <= 5)
        }
        #expect(S3ObjectStore.parseRetryAfter("2") == 2)
        #expect(S3ObjectStore.parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT") == 0)
    }

    @Test func pathNormalisationForNonS3Services() {
        #expect(SigV4Encoding.normalizePath("//example//") == "/example/")
        #expect(SigV4Encoding.normalizePath("/a/b/../../c") == "/c")
        #expect(SigV4Encoding.encode("a b+c=d;é~") == "a%20b%2Bc%3Dd%3B%C3%A9~")
    }
}
