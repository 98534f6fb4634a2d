import PressroomQueue

/// The `retention:` section: how long uploads live, and the bookkeeping
/// that lets erasure and the sweep delete everything made from one.
public struct RetentionSettings: Codable, Sendable, Equatable {
    /// Uploads no order used expire this long after they were stored, with
    /// their derivatives (the `sweep` job deletes them).
    public var drafts: DurationText = DurationText(.seconds(30 * 86400))
    /// Sources an order used are kept this long after the order's last use
    /// (for reprints), then swept with their masters.
    public var orders: DurationText = DurationText(.seconds(365 * 86400))
    /// Prefixes the sweep walks; default: `imaging.sourcePrefixes`.
    public var prefixes: [String]?
    /// Keys per listing request.
    public var pageSize: Int = 1000
    /// How long an erased or swept upload's tombstone stops writers from
    /// re-creating its outputs (a delayed retry of an old derive, say).
    public var tombstoneTTL: DurationText = DurationText(.seconds(30 * 86400))
    /// How long a derive or render may hold its write lease before an erase
    /// stops waiting for it; at least the jobs' `timeout`.
    public var writeLease: DurationText = DurationText(.seconds(15 * 60))
    /// Approximate length of the erasure audit stream `{ns:lifecycle}:audit`.
    public var auditMaxLength: Int = 1_000_000
    /// For uploads with no record (derived before records existed), also
    /// look for derivatives under `derived/<sha256>/` and `masters/<sha256>/`
    /// (two LIST requests per such upload, and a download to hash it when
    /// the store keeps no checksum).
    public var findUnrecordedDerivatives: Bool = true

    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = RetentionSettings()
        drafts = try c.decodeIfPresent(DurationText.self, forKey: .drafts) ?? d.drafts
        orders = try c.decodeIfPresent(DurationText.self, forKey: .orders) ?? d.orders
        prefixes = try c.decodeIfPresent([String].self, forKey: .prefixes)
        pageSize = try c.decodeIfPresent(Int.self, forKey: .pageSize) ?? d.pageSize
        tombstoneTTL = try c.decodeIfPresent(DurationText.self, forKey: .tombstoneTTL) ?? d.tombstoneTTL
        writeLease = try c.decodeIfPresent(DurationText.self, forKey: .writeLease) ?? d.writeLease
        auditMaxLength = try c.decodeIfPresent(Int.self, forKey: .auditMaxLength) ?? d.auditMaxLength
        findUnrecordedDerivatives = try c.decodeIfPresent(Bool.self, forKey: .findUnrecordedDerivatives) ?? d.findUnrecordedDerivatives
    }
}
