import Crypto
import Foundation
import PressroomColor
import Yams

/// Every product policy of a directory (`config/policies/*.yaml`), validated as a whole.
public struct PolicyCatalog: Sendable {
    /// Sorted by name, so iteration (and the report) is deterministic.
    public let policies: [ResolvedPolicy]

    public init(policies: [ResolvedPolicy]) {
        self.policies = policies.sorted { $0.name < $1.name }
    }

    /// SHA-256 over the policies' names and digests: changes when any policy changes.
    public var digest: String {
        var hasher = SHA256()
        for policy in policies { hasher.update(data: Data("\(policy.name)=\(policy.digest)\n".utf8)) }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    public func policy(named name: String) throws(ImagingError) -> ResolvedPolicy {
        guard let policy = policies.first(where: { $0.name == name }) else {
            throw ImagingError(.policyInvalid, "no policy named '\(name)' (known: \(policies.map(\.name).joined(separator: ", ")))")
        }
        return policy
    }

    public var products: [ResolvedPolicy] { policies.filter { $0.policy.kind == .product } }
    public var derivatives: [ResolvedPolicy] { policies.filter { $0.policy.kind != .product } }

    /// Loads and validates `directory/*.yaml`; profiles and watermark images are looked up in
    /// `profilesDirectory` (default: `../profiles` next to the policies directory).
    public static func load(directory: URL, profilesDirectory: URL? = nil) throws(ImagingError) -> PolicyCatalog {
        let profiles = profilesDirectory ?? directory.deletingLastPathComponent().appendingPathComponent("profiles")
        let files: [URL]
        do {
            files = try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
                .filter { ["yaml", "yml"].contains($0.pathExtension) }
                .sorted { $0.lastPathComponent < $1.lastPathComponent }
        } catch {
            throw ImagingError(.policyInvalid, "cannot list policies in \(directory.path): \(error.localizedDescription)")
        }
        guard !files.isEmpty else {
            throw ImagingError(.policyInvalid, "no *.yaml policies in \(directory.path)")
        }
        let context = ColorContext()
        var loaded: [ResolvedPolicy] = []
        for file in files {
            let text: String
            do {
                text = try String(contentsOf: file, encoding: .utf8)
            } catch {
                throw ImagingError(.policyInvalid, "\(file.lastPathComponent): cannot read: \(error.localizedDescription)")
            }
            let policy = try PolicyValidator.parse(yaml: text, file: file.lastPathComponent)
            let profile: OutputProfile
            do {
                profile = try OutputProfile.resolve(policy.output.profile, profilesDirectory: profiles, context: context)
            } catch {
                throw ImagingError(error.code, "\(file.lastPathComponent): field 'output.profile': \(error.message)")
            }
            try PolicyValidator.validate(policy, profile: profile, file: file.lastPathComponent)
            if let other = loaded.first(where: { $0.name == policy.name }) {
                throw ImagingError(.policyInvalid, "\(file.lastPathComponent): field 'name': '\(policy.name)' is already defined in \(other.file)")
            }
            var watermarkImage: Data?
            if let name = policy.watermark?.image {
                do {
                    watermarkImage = try WatermarkImage.load(name, directory: profiles)
                } catch {
                    throw ImagingError(error.code, "\(file.lastPathComponent): field 'watermark.image': \(error.message)")
                }
            }
            loaded.append(try ResolvedPolicy(policy: policy, profile: profile, watermarkImage: watermarkImage, file: file.lastPathComponent))
        }
        return PolicyCatalog(policies: loaded)
    }
}
