/// Where the bucket name goes in a request URL.
public enum S3AddressingStyle: String, Sendable, Codable, Equatable {
    /// `https://endpoint/bucket/key`: MinIO, Ceph RGW, moto and most local servers.
    case path
    /// `https://bucket.endpoint/key`: AWS's default.
    case virtualHosted = "virtual-hosted"
}
