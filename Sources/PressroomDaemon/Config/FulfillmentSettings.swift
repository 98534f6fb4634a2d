import Foundation
import PressroomFulfillment
import PressroomQueue

/// The `fulfillment:` section: where the vendors file is and how masters are
/// handed to vendors. Without a vendors file (the quick start) no fulfilment
/// job types are registered.
public struct FulfillmentSettings: Codable, Sendable, Equatable {
    public struct Reconcile: Codable, Sendable, Equatable {
        /// Orders in submitting/accepted/in_production for longer than this are looked up.
        public var olderThan: DurationText = DurationText(.seconds(900))
        /// Most orders one reconcile job looks up.
        public var limit: Int = 500

        public init() {}

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            olderThan = try c.decodeIfPresent(DurationText.self, forKey: .olderThan) ?? DurationText(.seconds(900))
            limit = try c.decodeIfPresent(Int.self, forKey: .limit) ?? 500
        }
    }

    /// Path of vendors.yaml (relative to the working directory); unset: no vendors.
    public var vendors: String?
    /// How long the presigned master URLs given to vendors stay valid.
    public var presignExpiry: DurationText = DurationText(.seconds(7 * 86400))
    /// Object-key prefixes a `fulfill` payload may name as masters.
    public var masterPrefixes: [String] = ["masters/"]
    /// The longest a vendor's Retry-After may delay a retry.
    public var maxRetryAfter: DurationText = DurationText(.seconds(600))
    /// How often the orders-per-state and breaker gauges are sampled.
    public var gaugeInterval: DurationText = DurationText(.seconds(15))
    public var reconcile = Reconcile()

    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = FulfillmentSettings()
        vendors = try c.decodeIfPresent(String.self, forKey: .vendors)
        presignExpiry = try c.decodeIfPresent(DurationText.self, forKey: .presignExpiry) ?? d.presignExpiry
        masterPrefixes = try c.decodeIfPresent([String].self, forKey: .masterPrefixes) ?? d.masterPrefixes
        maxRetryAfter = try c.decodeIfPresent(DurationText.self, forKey: .maxRetryAfter) ?? d.maxRetryAfter
        gaugeInterval = try c.decodeIfPresent(DurationText.self, forKey: .gaugeInterval) ?? d.gaugeInterval
        reconcile = try c.decodeIfPresent(Reconcile.self, forKey: .reconcile) ?? d.reconcile
    }

    /// Refuses master keys outside the allowed prefixes, URLs and path tricks.
    func checkMaster(_ key: String, field: String) throws -> String {
        guard !key.isEmpty, !key.hasPrefix("/"), !key.contains("\0"), !key.contains("://"), !key.contains("\\"),
              !key.split(separator: "/", omittingEmptySubsequences: false).contains(where: { $0 == ".." || $0 == "." }) else {
            throw JobError.permanent("\(field): '\(key)' is not a plain object key (a payload never names a URL or host)")
        }
        guard masterPrefixes.contains(where: { key.hasPrefix($0) }) else {
            throw JobError.permanent("\(field): '\(key)' is outside the allowed master prefixes (\(masterPrefixes.joined(separator: ", ")))")
        }
        return key
    }
}
