import Foundation
import PressroomFulfillment
import PressroomQueue

/// What each order has cost: the CPU of every run that named it, the bytes
/// its renders stored, its vendor calls. Kept beside the order's record
/// (`order:<id>:cost`, the record's hash slot), so one script charges a run
/// and, once the order is settled, copies the total onto the record: one
/// round trip after every run of an order instead of four.
struct OrderCostLedger: Sendable {
    let client: RedisClient
    /// The fulfil queue's order keys (of every partition).
    let keys: OrderKeys

    /// States after which an order's cost is settled, as the script takes them:
    /// accepted counts as final (what follows happens at the vendor and costs us nothing).
    private static let settledStates = [OrderState.accepted, .inProduction, .shipped, .failed, .cancelled].map(\.rawValue)

    /// Adds one run's cost. With `settle` (a run of the order's own jobs), an
    /// order that has reached a settled state gets `settled_at` and its vendor
    /// calls, and its record the `cost_*` fields, once: the CPU seconds are
    /// returned then (the histogram sees each order once), nil otherwise.
    func charge(order: String, cpuSeconds: Double, settle: Bool) async throws -> Double? {
        let keys = keys.of(order: order)
        let reply = try await Self.chargeScript.run(
            on: client, keys: [keys.cost(order), keys.order(order)],
            args: [String(format: "%.6f", cpuSeconds), String(UploadLedger.nowMs()), settle ? "1" : "0"] + Self.settledStates)
        return reply.string.flatMap(Double.init)
    }

    /// Bytes an order's render stored.
    func addWritten(order: String, bytes: Int64) async throws {
        try await client.call(["HINCRBY", keys.of(order: order).cost(order), "bytes_written", String(bytes)])
    }

    /// The order's cost hash (`cpu_seconds`, `runs`, `bytes_written`, and once settled `settled_at`, `vendor_calls`).
    func cost(order: String) async throws -> [String: String] {
        Dictionary(try await client.call(["HGETALL", keys.of(order: order).cost(order)]).fieldPairs, uniquingKeysWith: { a, _ in a })
    }

    /// KEYS: cost hash, order record. ARGV: cpu seconds, now, settle (1/0),
    /// then the settled states. Returns the CPU seconds when this call settled
    /// the order, else false. The record's copy is a write of it like any
    /// other (version and updated_at move), but no transition: no event.
    static let chargeScript = RedisScript(name: "order-cost-charge", source: """
        redis.call('HINCRBYFLOAT', KEYS[1], 'cpu_seconds', ARGV[1])
        redis.call('HINCRBY', KEYS[1], 'runs', 1)
        if ARGV[3] ~= '1' then return false end
        local record = redis.call('HMGET', KEYS[2], 'state', 'cost_cpu_seconds', 'intent_seq')
        if not record[1] or record[2] then return false end
        local settled = false
        for i = 4, #ARGV do if ARGV[i] == record[1] then settled = true end end
        if not settled or redis.call('HSETNX', KEYS[1], 'settled_at', ARGV[2]) == 0 then return false end
        local calls = record[3] or '0'
        redis.call('HSET', KEYS[1], 'vendor_calls', calls)
        local cost = redis.call('HMGET', KEYS[1], 'cpu_seconds', 'bytes_written', 'runs')
        local cpu = string.format('%.6f', tonumber(cost[1]))
        redis.call('HSET', KEYS[2], 'cost_cpu_seconds', cpu, 'cost_bytes_written', cost[2] or '0',
            'cost_vendor_calls', calls, 'cost_runs', cost[3] or '0', 'updated_at', ARGV[2])
        redis.call('HINCRBY', KEYS[2], 'version', 1)
        return cpu
        """)
}
