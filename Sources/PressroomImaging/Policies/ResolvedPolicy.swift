import Crypto
import Foundation

/// A validated policy with its output profile and digest, ready for the pipeline.
public struct ResolvedPolicy: Sendable, Equatable {
    public let policy: ProductPolicy
    public let profile: OutputProfile
    /// SHA-256 (hex) of the canonical JSON of the policy plus the output profile's bytes:
    /// any change to either yields new output keys.
    public let digest: String
    /// The file it was loaded from, for error messages.
    public let file: String

    public var name: String { policy.name }
    /// The first 12 hex digits, used in object keys.
    public var shortDigest: String { String(digest.prefix(12)) }

    public init(policy: ProductPolicy, profile: OutputProfile, file: String) throws(ImagingError) {
        self.policy = policy
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
        digest = hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}
