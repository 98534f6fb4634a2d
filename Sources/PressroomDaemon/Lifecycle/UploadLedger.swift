import Foundation
import PressroomQueue
import PressroomScan

/// The lifecycle records of uploads in Redis: who wrote what from which
/// upload, tombstones of erased ones, scan verdicts and costs. One instance
/// per process, over a connection of its own.
final class UploadLedger: Sendable {
    let keys: LifecycleKeys
    let client: RedisClient
    let retention: RetentionSettings

    init(namespace: String, client: RedisClient, retention: RetentionSettings) {
        self.keys = LifecycleKeys(namespace: namespace)
        self.client = client
        self.retention = retention
    }

    static func nowMs() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    // MARK: Scan verdicts

    struct StoredVerdict: Codable, Sendable, Equatable {
        var verdict: ScanVerdict
        /// clamd's VERSION line when it scanned (engine/database version).
        var engine: String
        var at: Int64
    }

    func verdict(sha256: String) async throws -> StoredVerdict? {
        guard let text = try await client.call(["GET", keys.verdict(sha256)]).string else { return nil }
        return try? JSONDecoder().decode(StoredVerdict.self, from: Data(text.utf8))
    }

    func record(_ verdict: StoredVerdict, sha256: String, ttl: Duration) async throws {
        let text = String(decoding: try JSONEncoder.sorted.encode(verdict), as: UTF8.self)
        try await client.call(["SET", keys.verdict(sha256), text, "PX", String(max(1000, ttl.milliseconds))])
    }

    // MARK: Writes

    /// Who is writing which upload's outputs; see ``LifecycleScripts``.
    struct Writer: Sendable {
        let upload: String
        let sha256: String
        let token: String
    }

    /// Takes a write lease on `upload`, refusing if it was erased.
    func beginWrite(upload: String, sha256: String, bytes: Int64, shop: String?, customer: String?, queue: String, jobID: String) async throws -> Writer {
        let token = UUID().uuidString
        for _ in 0..<3 {
            let now = Self.nowMs()
            var scriptKeys = [keys.tombstone(upload), keys.contentTombstone(sha256), keys.upload(upload), keys.writers(upload),
                              keys.content(sha256), keys.jobs(upload)]
            if let shop, let customer { scriptKeys.append(keys.customer(shop: shop, customer: customer)) }
            let reply = try await LifecycleScripts.beginWrite.run(
                on: client, keys: scriptKeys,
                args: [upload, sha256, token, String(now + retention.writeLease.duration.milliseconds), String(now), String(bytes),
                       shop ?? "", customer ?? "", "\(queue) \(jobID)"])
            let parts = reply.array ?? []
            switch parts.first?.string {
            case "ok":
                return Writer(upload: upload, sha256: sha256, token: token)
            case "erased":
                throw JobError.permanent("source '\(upload)' was erased (\(Self.tombstoneReason(parts.count > 1 ? parts[1].string : nil))); nothing is derived from it")
            case "content-busy":
                throw JobError.transient("an erase is deleting the derivatives of this content; retrying once it is done", retryAfter: .seconds(5))
            case "changed":
                // New bytes under an old key: the old content no longer names this upload.
                let old = parts.count > 1 ? parts[1].string ?? "" : ""
                try await LifecycleScripts.forgetContent.run(on: client, keys: [keys.upload(upload), keys.content(old)], args: [upload, old])
            default:
                throw JobError.transient("unexpected reply from the lifecycle script: \(reply)")
            }
        }
        throw JobError.transient("source '\(upload)' keeps changing while it is being processed")
    }

    /// Names outputs before they are written. Throws permanent when the upload was erased.
    func register(_ writer: Writer, outputs: [String]) async throws {
        guard !outputs.isEmpty else { return }
        let expiry = Self.nowMs() + retention.writeLease.duration.milliseconds
        let reply = try await LifecycleScripts.registerOutputs.run(
            on: client, keys: [keys.tombstone(writer.upload), keys.writers(writer.upload), keys.outputs(writer.upload)],
            args: [writer.token, String(expiry)] + outputs)
        if reply.string == "erased" {
            throw JobError.permanent("source '\(writer.upload)' was erased while it was processed; its outputs were not written")
        }
    }

    /// Ends the lease. Returns true when the upload was erased meanwhile.
    func finish(_ writer: Writer, bytesWritten: Int64, stamp: String?) async throws -> Bool {
        let reply = try await LifecycleScripts.finishWrite.run(
            on: client, keys: [keys.tombstone(writer.upload), keys.writers(writer.upload), keys.upload(writer.upload)],
            args: [writer.token, String(bytesWritten), stamp ?? "", String(Self.nowMs())])
        return reply.string == "erased"
    }

    /// Drops a lease without finishing (the job failed before writing).
    func abandon(_ writer: Writer) async {
        _ = try? await client.call(["ZREM", keys.writers(writer.upload), writer.token])
    }

    static func tombstoneReason(_ json: String?) -> String {
        guard let json, let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
              let reason = object["reason"] as? String else { return "erased" }
        return reason
    }

    // MARK: Records

    func record(upload: String) async throws -> [String: String] {
        Dictionary(try await client.call(["HGETALL", keys.upload(upload)]).fieldPairs, uniquingKeysWith: { a, _ in a })
    }

    /// An order (a paid render) used this source: it is kept for `retention.orders` from now.
    func markOrdered(upload: String, order: String?) async throws {
        var args = ["HSET", keys.upload(upload), "ordered_at", String(Self.nowMs())]
        if let order { args += ["order", order] }
        try await client.call(args)
    }

    /// Adds one run's cost to the upload's record, if it has one (an
    /// erased upload's record is gone, and stays gone). With `firstIntake`,
    /// returns the upload's total the first time its derive succeeds: the
    /// cost of taking the upload in, observed once per upload.
    func charge(upload: String, cpuSeconds: Double, firstIntake: Bool) async throws -> Double? {
        let reply = try await Self.chargeUpload.run(
            on: client, keys: [keys.upload(upload)], args: [String(format: "%.6f", cpuSeconds), firstIntake ? "1" : "0"])
        return reply.string.flatMap(Double.init)
    }

    /// KEYS: record. ARGV: cpu seconds, first intake (1/0).
    static let chargeUpload = RedisScript(name: "lifecycle-charge-upload", source: """
        if redis.call('EXISTS', KEYS[1]) == 0 then return false end
        local total = redis.call('HINCRBYFLOAT', KEYS[1], 'cpu_seconds', ARGV[1])
        redis.call('HINCRBY', KEYS[1], 'runs', 1)
        if ARGV[2] == '1' and redis.call('HSETNX', KEYS[1], 'intake_cpu_seconds', total) == 1 then return total end
        return false
        """)
}
