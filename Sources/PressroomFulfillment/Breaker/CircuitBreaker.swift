import Foundation
import PressroomQueue
import Synchronization

/// A vendor's circuit breaker, kept in Redis (`{ns:vendor:<name>}:breaker`,
/// a slot of its own) so every worker process sees an outage at once.
///
/// Closed: calls go through; consecutive failures are counted. At the
/// threshold it opens for the cool-down. After that exactly one caller in the
/// fleet gets the probe (a lease that expires, so a crashed prober frees it);
/// its success closes the breaker, its failure reopens it.
public struct CircuitBreaker: Sendable {
    public enum State: String, Sendable {
        case closed, open
        case halfOpen = "half_open"
    }

    public enum Admission: Sendable, Equatable {
        case allowed
        /// This caller holds the fleet's one probe.
        case probe
        /// Open (or another caller is probing); retry after this long.
        case rejected(retryAfter: Duration)
    }

    public struct Snapshot: Sendable, Equatable {
        public var state: State
        public var failures: Int
        public var openUntil: Int64?
    }

    public let vendor: String
    public let key: String
    public let settings: VendorConfiguration.Breaker
    let probeLease: Duration
    let client: RedisClient
    /// Whether the last word this process had from Redis was "closed, no
    /// failures" (and it recorded none since): then a success has nothing to
    /// reset and is not sent, which saves every ticket a script call. A
    /// failure recorded meanwhile by another process is reset by the next
    /// success whose admission saw it.
    private let clean = CleanFlag()

    final class CleanFlag: Sendable {
        let value = Atomic<Bool>(false)
    }

    public init(vendor: String, namespace: String, settings: VendorConfiguration.Breaker, requestTimeout: Duration, client: RedisClient) {
        self.vendor = vendor
        self.key = Self.key(namespace: namespace, vendor: vendor)
        self.settings = settings
        self.probeLease = settings.probeTimeout?.duration ?? requestTimeout + .seconds(5)
        self.client = client
    }

    public static func key(namespace: String, vendor: String) -> String { "{\(namespace):vendor:\(vendor)}:breaker" }

    static let script = RedisScript(name: "vendor-breaker", source: #"""
        local op, now = ARGV[1], tonumber(ARGV[2])
        local h = redis.call('HMGET', KEYS[1], 'state', 'failures', 'open_until', 'probe_until')
        local state, failures = h[1] or 'closed', tonumber(h[2] or '0')
        local openUntil, probeUntil = tonumber(h[3] or '0'), tonumber(h[4] or '0')
        if op == 'acquire' then
            if state == 'closed' then return {'allowed', 0, failures} end
            if state == 'open' and now < openUntil then return {'rejected', openUntil - now} end
            if state == 'half_open' and now < probeUntil then return {'rejected', probeUntil - now} end
            redis.call('HSET', KEYS[1], 'state', 'half_open', 'probe_until', now + tonumber(ARGV[3]))
            return {'probe', 0}
        elseif op == 'success' then
            if state ~= 'closed' or failures ~= 0 then
                redis.call('HSET', KEYS[1], 'state', 'closed', 'failures', 0, 'closed_at', now)
                return {'closed', 1}
            end
            return {'closed', 0}
        elseif op == 'failure' then
            failures = failures + 1
            local threshold, cool = tonumber(ARGV[3]), tonumber(ARGV[4])
            if state == 'half_open' or (state == 'closed' and failures >= threshold) then
                redis.call('HSET', KEYS[1], 'state', 'open', 'failures', failures, 'open_until', now + cool, 'opened_at', now)
                return {'open', 1}
            end
            redis.call('HSET', KEYS[1], 'failures', failures)
            return {state, 0}
        elseif op == 'peek' then
            return {state, failures, openUntil}
        end
        return redis.error_reply('unknown breaker op ' .. op)
        """#)

    public static func nowMs() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    /// Asks to make a call.
    public func acquire(now: Int64 = CircuitBreaker.nowMs()) async throws -> Admission {
        let reply = try await Self.script.run(on: client, keys: [key], args: ["acquire", String(now), String(probeLease.milliseconds)])
        let values = reply.array ?? []
        switch values.first?.string {
        case "allowed":
            clean.value.store(values.count > 2 && values[2].int == 0, ordering: .relaxed)
            return .allowed
        case "probe":
            clean.value.store(false, ordering: .relaxed)
            return .probe
        default: return .rejected(retryAfter: .milliseconds(max(1, values.last?.int ?? 1000)))
        }
    }

    /// Whether a success has something to clear: failures this process saw
    /// since its last admission found the breaker clean (``recordSuccess``
    /// returns at once otherwise).
    public var hasFailuresToClear: Bool { !clean.value.load(ordering: .relaxed) }

    /// A call worked (or the vendor answered, even with a rejection): closes it.
    /// Returns whether this changed the state.
    @discardableResult
    public func recordSuccess(now: Int64 = CircuitBreaker.nowMs()) async throws -> Bool {
        if clean.value.load(ordering: .relaxed) { return false }
        let reply = try await Self.script.run(on: client, keys: [key], args: ["success", String(now)])
        clean.value.store(true, ordering: .relaxed)
        return reply.array?.last?.int == 1
    }

    /// A call failed as an outage would (transport error, timeout, 5xx).
    /// Returns whether this opened the breaker.
    @discardableResult
    public func recordFailure(now: Int64 = CircuitBreaker.nowMs()) async throws -> Bool {
        clean.value.store(false, ordering: .relaxed)
        let reply = try await Self.script.run(on: client, keys: [key], args: [
            "failure", String(now), String(settings.failureThreshold), String(settings.coolDown.duration.milliseconds),
        ])
        return reply.array?.last?.int == 1
    }

    public func snapshot() async throws -> Snapshot {
        let reply = try await Self.script.run(on: client, keys: [key], args: ["peek", String(Self.nowMs())])
        let values = reply.array ?? []
        let state = State(rawValue: values.first?.string ?? "closed") ?? .closed
        let until = values.count > 2 ? values[2].int ?? 0 : 0
        return Snapshot(state: state, failures: Int(values.count > 1 ? values[1].int ?? 0 : 0), openUntil: until > 0 ? until : nil)
    }
}

extension Duration {
    var milliseconds: Int64 {
        let (s, atto) = components
        return s * 1000 + atto / 1_000_000_000_000_000
    }
}
