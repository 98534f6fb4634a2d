import Foundation
import PressroomImaging

/// The `imaging:` section: where policies live, the input limits, and which
/// object keys jobs may read.
public struct ImagingSettings: Codable, Sendable, Equatable {
    /// Directory of product policies (one YAML file per product).
    public var policies: String = "config/policies"
    /// Directory of ICC profiles the policies name (e.g. xcmyk-2017.icc).
    public var profiles: String = "config/profiles"
    /// Inputs larger than this many bytes are refused before decoding.
    public var maxBytes: Int = 64 << 20
    /// Inputs with more pixels than this are refused before decoding.
    public var maxPixels: Int = 100_000_000
    /// Inputs whose shorter side has fewer pixels than this are refused before decoding.
    public var minShortSide: Int = 8
    /// Inputs longer than this many times their width (or wider than their height) are refused before decoding.
    public var maxAspectRatio: Double = 20
    /// libvips threads per operation (0: one per core).
    public var vipsConcurrency: Int = 0
    /// Bytes of one canvas row a print master's libvips threads may span between them: wider
    /// masters render with fewer threads, so their memory stays flat (0: no cap).
    public var masterRowBudget: Int = 32 << 10
    /// Threads that run libvips calls (a limit on images processed at once).
    public var threads: Int = 2
    /// The derivative a print master is compared with when verified.
    public var previewPolicy: String = "preview"
    /// Object-key prefixes a job payload may name as its source. A key
    /// outside them is refused: a job never reads what config does not allow.
    public var sourcePrefixes: [String] = ["uploads/"]

    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = ImagingSettings()
        policies = try c.decodeIfPresent(String.self, forKey: .policies) ?? d.policies
        profiles = try c.decodeIfPresent(String.self, forKey: .profiles) ?? d.profiles
        maxBytes = try c.decodeIfPresent(Int.self, forKey: .maxBytes) ?? d.maxBytes
        maxPixels = try c.decodeIfPresent(Int.self, forKey: .maxPixels) ?? d.maxPixels
        minShortSide = try c.decodeIfPresent(Int.self, forKey: .minShortSide) ?? d.minShortSide
        maxAspectRatio = try c.decodeIfPresent(Double.self, forKey: .maxAspectRatio) ?? d.maxAspectRatio
        vipsConcurrency = try c.decodeIfPresent(Int.self, forKey: .vipsConcurrency) ?? d.vipsConcurrency
        masterRowBudget = try c.decodeIfPresent(Int.self, forKey: .masterRowBudget) ?? d.masterRowBudget
        threads = try c.decodeIfPresent(Int.self, forKey: .threads) ?? d.threads
        previewPolicy = try c.decodeIfPresent(String.self, forKey: .previewPolicy) ?? d.previewPolicy
        sourcePrefixes = try c.decodeIfPresent([String].self, forKey: .sourcePrefixes) ?? d.sourcePrefixes
    }

    var configuration: ImagingConfiguration {
        ImagingConfiguration(vipsConcurrency: vipsConcurrency, maxBytes: maxBytes, maxPixels: maxPixels, blockingThreads: threads,
                             minShortSide: minShortSide, maxAspectRatio: maxAspectRatio, masterRowBudget: masterRowBudget)
    }

    /// Refuses keys outside the allowed prefixes, and any with path tricks.
    func checkSource(_ key: String) throws -> String {
        guard !key.isEmpty, !key.hasPrefix("/"), !key.contains("\0"),
              !key.split(separator: "/", omittingEmptySubsequences: false).contains(where: { $0 == ".." || $0 == "." }),
              !key.contains("://") else {
            throw JobFailure.permanent("source '\(key)' is not a plain object key")
        }
        guard sourcePrefixes.contains(where: { key.hasPrefix($0) }) else {
            throw JobFailure.permanent("source '\(key)' is outside the allowed prefixes (\(sourcePrefixes.joined(separator: ", ")))")
        }
        return key
    }
}
