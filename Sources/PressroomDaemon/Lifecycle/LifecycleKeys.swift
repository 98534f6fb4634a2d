/// Redis keys of uploads' lifecycle: records, write leases, tombstones,
/// scan verdicts, the erasure audit stream. All share the `{ns:lifecycle}`
/// hash tag, so every lifecycle script touches one Redis Cluster slot; each
/// kind has its own word after the tag, so an object key holding `:` can
/// never name another kind's key.
struct LifecycleKeys: Sendable {
    let namespace: String
    private let prefix: String

    init(namespace: String) {
        self.namespace = namespace
        prefix = "{\(namespace):lifecycle}:"
    }

    /// HASH per upload: sha256, bytes, shop, customer, created_at,
    /// derived_at, ordered_at, order, cpu_seconds, bytes_written, runs.
    func upload(_ key: String) -> String { prefix + "upload:" + key }
    /// SET of object keys written from the upload (derivatives, masters, reports).
    func outputs(_ key: String) -> String { prefix + "outputs:" + key }
    /// ZSET of write leases in flight (member: token, score: expiry ms).
    func writers(_ key: String) -> String { prefix + "writers:" + key }
    /// SET of `<queue> <job id>`: job-state records that name the upload.
    func jobs(_ key: String) -> String { prefix + "jobs:" + key }
    /// The upload was erased or swept: writers must not re-create its outputs.
    func tombstone(_ key: String) -> String { prefix + "tomb:" + key }
    /// A sweeper's claim on an expired upload (so two sweeps never both count it).
    func sweepClaim(_ key: String) -> String { prefix + "sweep-claim:" + key }
    /// SET of uploads whose bytes have this SHA-256 (derivatives are keyed by content).
    func content(_ sha256: String) -> String { prefix + "content:" + sha256 }
    /// Set while an erase deletes this content's derivatives: no writer may start.
    func contentTombstone(_ sha256: String) -> String { prefix + "content-tomb:" + sha256 }
    /// SET of a shop customer's uploads, for erasure by customer id.
    func customer(shop: String, customer: String) -> String { prefix + "customer:" + shop + ":" + customer }
    /// clamd's verdict on content with this SHA-256.
    func verdict(_ sha256: String) -> String { prefix + "verdict:" + sha256 }
    /// HASH of counts an erase or sweep job has deleted so far (kept across its retries).
    func progress(_ jobID: String) -> String { prefix + "progress:" + jobID }
    /// Marks that a job's audit entry was written (at most one per job id).
    func auditDone(_ jobID: String) -> String { prefix + "audit-done:" + jobID }
    /// Erasure audit stream: what was deleted, counts only.
    var audit: String { prefix + "audit" }
}
