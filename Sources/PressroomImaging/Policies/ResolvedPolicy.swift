import Crypto
import Foundation

/// A validated policy with its output profile and digest, ready for the pipeline.
public struct ResolvedPolicy: Sendable, Equatable {
    public let policy: ProductPolicy
    public let profile: OutputProfile
    /// The bytes of `watermark.image`, read when the catalog loaded (nil for text or no watermark).
    public let watermarkImage: Data?
    /// SHA-256 (hex) of the canonical JSON of the policy plus the output profile's and watermark
    /// image's bytes: any change to them yields new output keys.
    public let digest: String
    /// The file it was loaded from, for error messages.
    public let file: String

    public var name: String { policy.name }
    /// The first 12 hex digits, used in object keys.
    public var shortDigest: String { String(digest.prefix(12)) }

    public init(policy: ProductPolicy, profile: OutputProfile, watermarkImage: Data? = nil, file: String) throws(ImagingError) {
        self.policy = policy
        self.watermarkImage = watermarkImage
        self.profile = profile
        self.file = file
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let canonical: Data
        do {
            canonical = try encoder.encode(policy)
        } catch {
            throw ImagingError(.policyInvalid, "\(file): cannot encode policy: \(error)")
        }
        var hasher = SHA256()
        hasher.update(data: canonical)
        hasher.update(data: Data(profile.name.utf8))
        if let data = profile.data { hasher.update(data: data) }
        // Only when present, so policies without an image watermark keep their digests.
        if let watermarkImage {
            hasher.update(data: Data("\nwatermark.image\n".utf8))
            hasher.update(data: watermarkImage)
        }
        digest = hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}
