import Foundation
import Metrics
import PressroomQueue

/// Per-shop token buckets in Redis, one script per job in the job's queue
/// slot: jobs per minute per job type, and source bytes per day. A job over
/// quota is deferred (``JobDeferral``) until its bucket has refilled, up to
/// `quotas.maxWait` in total; then it is dead-lettered with reason `quota`.
final class QuotaGate: Sendable {
    let settings: QuotaSettings
    private let client: RedisClient
    private let namespace: String

    init(settings: QuotaSettings, client: RedisClient, namespace: String) {
        self.settings = settings
        self.client = client
        self.namespace = namespace
    }

    static func isValidShop(_ shop: String) -> Bool {
        (1...64).contains(shop.utf8.count) && shop.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
    }

    /// The shop a payload names (`shop`, or `tenant`), validated.
    static func shop(in payload: Data) throws -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: payload) as? [String: Any] else { return nil }
        guard let value = object["shop"] ?? object["tenant"] else { return nil }
        guard let shop = value as? String, isValidShop(shop) else {
            throw JobError.permanent("payload.shop must be 1-64 of A-Z a-z 0-9 . _ -")
        }
        return shop
    }

    /// Charges one job of `job.type` and `bytes` source bytes to `shop`'s buckets, or defers the job.
    func admit(_ job: Job, shop: String?, bytes: Int64) async throws {
        guard !settings.isEmpty else { return }
        guard let shop else {
            if settings.requireShop && settings.limitsType(job.type) {
                throw JobError.permanent("payload.shop is required for \(job.type) jobs (quotas.requireShop)")
            }
            return
        }
        guard let limits = settings.limits(for: shop) else { return }
        let perMinute = limits.jobsPerMinute[job.type] ?? 0
        let perDay = Double(limits.bytesPerDay ?? 0)
        guard perMinute > 0 || (perDay > 0 && bytes > 0) else { return }
        let keys = QueueKeys(namespace: namespace, queue: job.queue)
        let reply: RedisValue
        do {
            reply = try await Self.bucket.run(
                on: client, keys: [keys.scoped("quota:jobs:\(job.type):\(shop)"), keys.scoped("quota:bytes:\(shop)")],
                args: [String(UploadLedger.nowMs()),
                       String(perMinute), String(perMinute / 60_000), perMinute > 0 ? "1" : "0",
                       String(perDay), String(perDay / 86_400_000), perDay > 0 ? String(bytes) : "0",
                       String(86_400_000 * 2)])
        } catch {
            throw JobError.transient("quota check for shop '\(shop)': \(error)")
        }
        let parts = reply.array ?? []
        let wait = parts.first?.int ?? 0
        let which = parts.count > 1 ? parts[1].string ?? "" : ""
        func count(_ decision: String) {
            Counter(label: "pressroom_quota_decisions_total", dimensions: [("shop", shop), ("type", job.type), ("decision", decision)]).increment()
        }
        if wait == 0 {
            count("admitted")
            if bytes > 0 && perDay > 0 {
                Counter(label: "pressroom_quota_bytes_total", dimensions: [("shop", shop), ("type", job.type)]).increment(by: bytes)
            }
            return
        }
        let what = which == "bytes" ? "its \(limits.bytesPerDay ?? 0) source bytes per day on queue \(job.queue)"
                                    : "its \(Self.format(perMinute)) \(job.type) jobs per minute"
        if wait < 0 {
            count("refused")
            throw JobError.permanent("quota: this \(bytes)-byte source alone is more than shop '\(shop)' may read per day (\(limits.bytesPerDay ?? 0) bytes)")
        }
        count("deferred")
        throw JobDeferral(delay: .milliseconds(max(wait, 50)), maxWait: settings.maxWait.duration,
                          reason: "quota: shop '\(shop)' is over \(what)")
    }

    private static func format(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }

    /// KEYS: jobs bucket, bytes bucket (HASH tokens/ts). ARGV: now ms,
    /// jobs capacity, jobs per ms, jobs cost, bytes capacity, bytes per ms,
    /// bytes cost, ttl ms. Takes both costs or neither; returns {0} when
    /// admitted, {ms to wait, which bucket}, or {-1, 'bytes'} for a cost
    /// larger than the bucket can ever hold.
    static let bucket = RedisScript(name: "quota-bucket", source: """
        local now = tonumber(ARGV[1])
        local function level(key, cap, rate)
            if cap <= 0 then return nil end
            local b = redis.call('HMGET', key, 'tokens', 'ts')
            local tokens = tonumber(b[1]) or cap
            local ts = tonumber(b[2]) or now
            return math.min(cap, tokens + math.max(0, now - ts) * rate)
        end
        local jc, jr, jn = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
        local bc, br, bn = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
        if bc > 0 and bn > bc then return {-1, 'bytes'} end
        local jt, bt = nil, nil
        if jn > 0 then jt = level(KEYS[1], jc, jr) end
        if bn > 0 then bt = level(KEYS[2], bc, br) end
        local wait, which = 0, ''
        if jt and jt < jn then
            local w = math.ceil((jn - jt) / jr)
            if w > wait then wait, which = w, 'jobs' end
        end
        if bt and bt < bn then
            local w = math.ceil((bn - bt) / br)
            if w > wait then wait, which = w, 'bytes' end
        end
        if wait > 0 then return {wait, which} end
        if jt then
            redis.call('HSET', KEYS[1], 'tokens', tostring(jt - jn), 'ts', tostring(now))
            redis.call('PEXPIRE', KEYS[1], ARGV[8])
        end
        if bt then
            redis.call('HSET', KEYS[2], 'tokens', tostring(bt - bn), 'ts', tostring(now))
            redis.call('PEXPIRE', KEYS[2], ARGV[8])
        end
        return {0, ''}
        """)
}
