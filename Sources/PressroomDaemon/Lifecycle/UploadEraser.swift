import Foundation
import PressroomImaging
import PressroomQueue
import PressroomStorage

/// Deletes an upload with everything made from it: the original (and its
/// quarantined copy), derivatives, masters, and the job-state records that
/// name it. Shared by `erase` (a privacy request) and `sweep` (expiry).
///
/// Order of work, so no writer can leave anything behind: a tombstone first
/// (writers check it atomically when they start, when they name their
/// outputs and when they finish, and delete their own writes if it appeared
/// meanwhile), then the deletes, then the records. Derivatives and masters
/// are keyed by content, so they are kept while another upload has the same bytes.
struct UploadEraser: Sendable {
    let store: any ObjectStore
    let ledger: UploadLedger
    let imaging: ImagingSettings
    let quarantinePrefix: String?
    let retention: RetentionSettings

    enum Mode: Sendable, Equatable {
        case erase
        /// A sweeper named `owner`: uploads with writes in flight or claimed by another sweeper are left for later.
        case sweep(owner: String)
    }

    /// One upload's deletion, between its tombstone and its records' removal.
    struct Plan: Sendable {
        let upload: String
        let sha256: String
        /// Existing objects to delete, with their sizes.
        var objects: [ObjectMetadata]
        let jobRecords: [String]
        let writers: Int
        let shop: String?
        let customer: String?
    }

    enum Preparation: Sendable {
        case ready(Plan)
        case busy(writers: Int)
        case claimed
    }

    /// Sets the tombstone and finds what exists. `known` is the original's
    /// metadata when the caller listed it already.
    func prepare(upload: String, reason: String, mode: Mode, known: ObjectMetadata? = nil) async throws -> Preparation {
        let keys = ledger.keys
        let record = try await ledger.record(upload: upload)
        var sha = record["sha256"] ?? ""
        var original = known
        if known == nil { original = try await store.head(upload) }
        if sha.isEmpty, let original, retention.findUnrecordedDerivatives {
            // Never derived through the ledger: the content hash finds derivatives made before it.
            if let hex = original.checksumSHA256.flatMap(SourceIntake.hex(base64:)) {
                sha = hex
            } else if original.size <= Int64(imaging.maxBytes) {
                sha = Imaging.sha256(try await store.get(upload))
            }
        }
        let now = UploadLedger.nowMs()
        let tombstone = String(decoding: try JSONSerialization.data(withJSONObject: ["reason": reason, "at": now], options: [.sortedKeys]), as: UTF8.self)
        let owner: String
        let modeName: String
        switch mode {
        case .erase: (modeName, owner) = ("erase", "")
        case .sweep(let name): (modeName, owner) = ("sweep", name)
        }
        let reply = try await LifecycleScripts.beginErase.run(
            on: ledger.client,
            keys: [keys.tombstone(upload), keys.upload(upload), keys.writers(upload), keys.content(sha), keys.contentTombstone(sha),
                   keys.outputs(upload), keys.jobs(upload), keys.sweepClaim(upload)],
            args: [upload, sha, tombstone, String(now), String(retention.tombstoneTTL.duration.milliseconds),
                   String(retention.writeLease.duration.milliseconds), modeName, String(retention.writeLease.duration.milliseconds), owner])
        let parts = reply.array ?? []
        switch parts.first?.string {
        case "busy": return .busy(writers: Int(parts.count > 1 ? parts[1].int ?? 1 : 1))
        case "claimed": return .claimed
        case "ok": break
        default: throw JobError.transient("unexpected reply from the erase script: \(reply)")
        }
        let writers = Int(parts[1].int ?? 0)
        let shared = Int(parts[2].int ?? 0)
        let outputs = parts[3].array?.compactMap(\.string) ?? []
        let jobs = parts[4].array?.compactMap(\.string) ?? []
        let fields = Dictionary(parts[5].fieldPairs, uniquingKeysWith: { a, _ in a })

        var objects: [ObjectMetadata] = []
        if let original { objects.append(original) }
        if let quarantinePrefix, let copy = try await store.head(quarantinePrefix + upload) { objects.append(copy) }
        if shared == 0 && !sha.isEmpty {
            var candidates = Set(outputs)
            if record.isEmpty && retention.findUnrecordedDerivatives {
                // No record: whatever was derived before the ledger existed, by its content prefix.
                for prefix in ["derived/\(sha)/", "masters/\(sha)/"] {
                    for object in try await listAll(prefix: prefix) { candidates.insert(object.key) }
                }
            }
            objects += try await heads(candidates.subtracting(objects.map(\.key)).sorted())
        }
        return .ready(Plan(upload: upload, sha256: sha, objects: objects, jobRecords: jobs, writers: writers,
                           shop: fields["shop"], customer: fields["customer"]))
    }

    /// Deletes the objects of several plans in as few requests as the store allows.
    func delete(_ plans: [Plan]) async throws {
        let keys = plans.flatMap { $0.objects.map(\.key) }
        guard !keys.isEmpty else { return }
        let failures = try await store.delete(keys: keys)
        if let (key, why) = failures.first {
            throw ObjectStoreError(.transient, "could not delete \(failures.count) objects (first: \(key): \(why))")
        }
    }

    /// How an upload's job list names a job's queue: `queue`, or
    /// `queue:partition` beyond partition 0 (queue names have no colon).
    static func jobRecordQueue(_ job: Job) -> String {
        job.partition == 0 ? job.queue : "\(job.queue):\(job.partition)"
    }

    /// Deletes the job-state records and the upload's own records, and adds
    /// the counts to the job's progress. Returns the counts.
    @discardableResult
    func complete(_ plan: Plan, jobID: String, namespace: String) async throws -> [String: Int64] {
        var jobRecords: Int64 = 0
        for entry in plan.jobRecords {
            let parts = entry.split(separator: " ", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { continue }
            let place = parts[0].split(separator: ":", maxSplits: 1)
            let state = QueueKeys(namespace: namespace, queue: String(place[0]),
                                  partition: place.count > 1 ? Int(place[1]) ?? 0 : 0).job(parts[1])
            jobRecords += try await Self.deleteFinished.run(on: ledger.client, keys: [state], args: []).int ?? 0
        }
        var counts = counts(of: plan)
        counts["job_records"] = jobRecords
        var scriptKeys = [ledger.keys.upload(plan.upload), ledger.keys.outputs(plan.upload), ledger.keys.jobs(plan.upload),
                          ledger.keys.writers(plan.upload), ledger.keys.contentTombstone(plan.sha256), ledger.keys.progress(jobID),
                          ledger.keys.sweepClaim(plan.upload)]
        if let shop = plan.shop, let customer = plan.customer { scriptKeys.append(ledger.keys.customer(shop: shop, customer: customer)) }
        try await LifecycleScripts.finishErase.run(
            on: ledger.client, keys: scriptKeys,
            args: [plan.upload, String(retention.tombstoneTTL.duration.milliseconds)]
                + counts.sorted { $0.key < $1.key }.flatMap { [$0.key, String($0.value)] })
        return counts
    }

    /// What a plan deletes, by kind.
    func counts(of plan: Plan) -> [String: Int64] {
        var counts: [String: Int64] = ["uploads": 1, "originals": 0, "derivatives": 0, "masters": 0, "other": 0, "bytes": 0]
        for object in plan.objects {
            let kind = object.key == plan.upload || (quarantinePrefix.map { object.key == $0 + plan.upload } ?? false) ? "originals"
                : object.key.hasPrefix("derived/") ? "derivatives" : object.key.hasPrefix("masters/") ? "masters" : "other"
            counts[kind, default: 0] += 1
            counts["bytes", default: 0] += object.size
        }
        return counts
    }

    private func listAll(prefix: String) async throws -> [ObjectMetadata] {
        var all: [ObjectMetadata] = []
        var cursor: String?
        repeat {
            let page = try await store.listPage(prefix: prefix, after: cursor, limit: retention.pageSize)
            all += page.objects
            cursor = page.next
        } while cursor != nil
        return all
    }

    /// HEADs keys 16 at a time; absent ones are dropped.
    private func heads(_ keys: [String]) async throws -> [ObjectMetadata] {
        let store = self.store
        return try await withThrowingTaskGroup(of: ObjectMetadata?.self) { group in
            var results: [ObjectMetadata] = []
            var next = 0
            while next < min(16, keys.count) {
                let key = keys[next]
                group.addTask { try await store.head(key) }
                next += 1
            }
            while let result = try await group.next() {
                if let result { results.append(result) }
                if next < keys.count {
                    let key = keys[next]
                    group.addTask { try await store.head(key) }
                    next += 1
                }
            }
            return results.sorted { $0.key < $1.key }
        }
    }

    /// Deletes a job-state record unless it says the job is running. KEYS: state.
    static let deleteFinished = RedisScript(name: "lifecycle-delete-finished-state", source: """
        local v = redis.call('GET', KEYS[1])
        if v and string.sub(v, 1, 19) ~= '{"status":"running"' then return redis.call('DEL', KEYS[1]) end
        return 0
        """)
}
