import PressroomQueue

/// The `quotas:` section: per-shop limits against cost attacks, enforced
/// with token buckets in Redis before a job does any work.
public struct QuotaSettings: Codable, Sendable, Equatable {
    public struct Limits: Codable, Sendable, Equatable {
        /// Jobs per minute by job type (a bucket of one minute's worth, refilled continuously).
        public var jobsPerMinute: [String: Double] = [:]
        /// Source bytes per day a shop's jobs may read, per queue.
        public var bytesPerDay: Int64?

        public init(jobsPerMinute: [String: Double] = [:], bytesPerDay: Int64? = nil) {
            self.jobsPerMinute = jobsPerMinute
            self.bytesPerDay = bytesPerDay
        }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            jobsPerMinute = try c.decodeIfPresent([String: Double].self, forKey: .jobsPerMinute) ?? [:]
            bytesPerDay = try c.decodeIfPresent(Int64.self, forKey: .bytesPerDay)
        }
    }

    /// An over-quota job waits (in the delayed set) at most this long in
    /// total, then is dead-lettered with the reason `quota`.
    public var maxWait: DurationText = DurationText(.seconds(3600))
    /// Limits of shops not listed under `shops`; none when absent.
    public var defaults: Limits?
    public var shops: [String: Limits] = [:]
    /// Refuse (permanently) jobs of the limited types whose payload names no shop.
    public var requireShop: Bool = false

    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = QuotaSettings()
        maxWait = try c.decodeIfPresent(DurationText.self, forKey: .maxWait) ?? d.maxWait
        defaults = try c.decodeIfPresent(Limits.self, forKey: .defaults)
        shops = try c.decodeIfPresent([String: Limits].self, forKey: .shops) ?? [:]
        requireShop = try c.decodeIfPresent(Bool.self, forKey: .requireShop) ?? d.requireShop
    }

    /// The limits that apply to `shop`.
    func limits(for shop: String) -> Limits? {
        shops[shop] ?? defaults
    }

    /// Whether any limit names `type`.
    func limitsType(_ type: String) -> Bool {
        defaults?.jobsPerMinute[type] != nil || shops.values.contains { $0.jobsPerMinute[type] != nil }
    }

    var isEmpty: Bool { defaults == nil && shops.isEmpty }
}
