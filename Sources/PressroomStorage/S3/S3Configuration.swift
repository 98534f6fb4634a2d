import Foundation

/// Settings of the S3 store, as they appear in the daemon's YAML config.
/// Every field but `bucket` has a default, and credentials left out are
/// looked up by ``S3CredentialsResolver`` (environment, then shared file).
public struct S3Configuration: Sendable, Codable, Equatable {
    /// `https://s3.eu-central-1.amazonaws.com`, `http://127.0.0.1:9000`...
    public var endpoint: String
    public var region: String
    public var bucket: String
    public var addressingStyle: S3AddressingStyle
    public var accessKeyID: String?
    public var secretAccessKey: String?
    public var sessionToken: String?
    /// Profile in the AWS shared credentials file (default: `AWS_PROFILE` or `default`).
    public var profile: String?
    public var connectTimeoutSeconds: Double
    /// A transfer below `lowSpeedLimitBytesPerSecond` for `lowSpeedTimeSeconds` is a stall.
    public var lowSpeedLimitBytesPerSecond: Int
    public var lowSpeedTimeSeconds: Int
    /// Concurrent requests (one reusable connection each), shared by every
    /// upload of the store: parts beyond it wait for a connection.
    public var connections: Int
    /// Objects of at least this many bytes go up as multipart uploads.
    public var multipartThresholdBytes: Int64
    /// Part size (S3's minimum is 5 MiB, for all parts but the last). 8 MiB
    /// parts, 10 in flight, as boto3's transfer manager: against moto a
    /// 128 MiB PUT ran at 23 MiB/s with 16 MiB parts, 4 in flight, and
    /// 39-41 MiB/s with 8 MiB parts, 10 in flight (bench/storage).
    public var multipartPartSizeBytes: Int64
    /// Parts of one upload in flight at once (each needs one of `connections`).
    public var multipartConcurrency: Int
    public var retry: S3RetryPolicy

    public init(
        endpoint: String = "https://s3.amazonaws.com",
        region: String = "us-east-1",
        bucket: String,
        addressingStyle: S3AddressingStyle = .path,
        accessKeyID: String? = nil,
        secretAccessKey: String? = nil,
        sessionToken: String? = nil,
        profile: String? = nil,
        connectTimeoutSeconds: Double = 10,
        lowSpeedLimitBytesPerSecond: Int = 1024,
        lowSpeedTimeSeconds: Int = 30,
        connections: Int = 10,
        multipartThresholdBytes: Int64 = 64 << 20,
        multipartPartSizeBytes: Int64 = 8 << 20,
        multipartConcurrency: Int = 10,
        retry: S3RetryPolicy = S3RetryPolicy()
    ) {
        self.endpoint = endpoint
        self.region = region
        self.bucket = bucket
        self.addressingStyle = addressingStyle
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.profile = profile
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.lowSpeedLimitBytesPerSecond = lowSpeedLimitBytesPerSecond
        self.lowSpeedTimeSeconds = lowSpeedTimeSeconds
        self.connections = connections
        self.multipartThresholdBytes = multipartThresholdBytes
        self.multipartPartSizeBytes = multipartPartSizeBytes
        self.multipartConcurrency = multipartConcurrency
        self.retry = retry
    }

    enum CodingKeys: String, CodingKey {
        case endpoint, region, bucket, addressingStyle, accessKeyID, secretAccessKey, sessionToken, profile
        case connectTimeoutSeconds, lowSpeedLimitBytesPerSecond, lowSpeedTimeSeconds, connections
        case multipartThresholdBytes, multipartPartSizeBytes, multipartConcurrency, retry
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = S3Configuration(bucket: "")
        bucket = try c.decode(String.self, forKey: .bucket)
        endpoint = try c.decodeIfPresent(String.self, forKey: .endpoint) ?? d.endpoint
        region = try c.decodeIfPresent(String.self, forKey: .region) ?? ProcessInfo.processInfo.environment["AWS_REGION"] ?? d.region
        addressingStyle = try c.decodeIfPresent(S3AddressingStyle.self, forKey: .addressingStyle) ?? d.addressingStyle
        accessKeyID = try c.decodeIfPresent(String.self, forKey: .accessKeyID)
        secretAccessKey = try c.decodeIfPresent(String.self, forKey: .secretAccessKey)
        sessionToken = try c.decodeIfPresent(String.self, forKey: .sessionToken)
        profile = try c.decodeIfPresent(String.self, forKey: .profile)
        connectTimeoutSeconds = try c.decodeIfPresent(Double.self, forKey: .connectTimeoutSeconds) ?? d.connectTimeoutSeconds
        lowSpeedLimitBytesPerSecond = try c.decodeIfPresent(Int.self, forKey: .lowSpeedLimitBytesPerSecond) ?? d.lowSpeedLimitBytesPerSecond
        lowSpeedTimeSeconds = try c.decodeIfPresent(Int.self, forKey: .lowSpeedTimeSeconds) ?? d.lowSpeedTimeSeconds
        connections = try c.decodeIfPresent(Int.self, forKey: .connections) ?? d.connections
        multipartThresholdBytes = try c.decodeIfPresent(Int64.self, forKey: .multipartThresholdBytes) ?? d.multipartThresholdBytes
        multipartPartSizeBytes = try c.decodeIfPresent(Int64.self, forKey: .multipartPartSizeBytes) ?? d.multipartPartSizeBytes
        multipartConcurrency = try c.decodeIfPresent(Int.self, forKey: .multipartConcurrency) ?? d.multipartConcurrency
        retry = try c.decodeIfPresent(S3RetryPolicy.self, forKey: .retry) ?? d.retry
    }

    /// Checks what would otherwise fail on the first request.
    public func validate() throws {
        func bad(_ why: String) -> ObjectStoreError { ObjectStoreError(.invalidConfiguration, "S3 configuration: \(why)") }
        guard let url = URL(string: endpoint), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
            throw bad("endpoint \(endpoint) is not an http(s) URL")
        }
        if bucket.isEmpty { throw bad("bucket is empty") }
        if region.isEmpty { throw bad("region is empty") }
        if multipartPartSizeBytes < 5 << 20 { throw bad("multipartPartSizeBytes must be at least 5 MiB (S3's minimum)") }
        if multipartThresholdBytes < multipartPartSizeBytes { throw bad("multipartThresholdBytes must be at least multipartPartSizeBytes") }
        if multipartConcurrency < 1 || connections < 1 { throw bad("multipartConcurrency and connections must be at least 1") }
        if retry.maxAttempts < 1 { throw bad("retry.maxAttempts must be at least 1") }
    }
}
