import Foundation
import Logging

/// Makes a consumer name exclusive to one live process. Two processes sharing
/// a name would read each other's pending entries and ACK each other's jobs.
///
/// The lock is a key with a short TTL refreshed by its holder. A key left by
/// a process that was killed expires on its own; at start-up we watch the key
/// for one refresh period to tell a live holder from a dead one.
public final class ConsumerLock: Sendable {
    public struct InUse: Error, CustomStringConvertible {
        public let consumer: String
        public let holder: String
        public var description: String {
            "consumer name '\(consumer)' is in use by another live process (\(holder)); give each process its own --consumer name"
        }
    }

    public let key: String
    public let consumer: String
    public let token: String
    private let client: RedisClient
    let ttl: Duration
    var refreshInterval: Duration { ttl / 4 }

    public init(namespace: String, consumer: String, client: RedisClient, ttl: Duration = .seconds(10)) {
        self.key = QueueKeys.consumerLock(namespace: namespace, consumer: consumer)
        self.consumer = consumer
        self.client = client
        self.ttl = ttl
        self.token = "\(ProcessInfo.processInfo.hostName)/pid \(getpid())/\(UUID().uuidString.prefix(8))"
    }

    /// Takes the name, waiting out a dead holder's key; throws ``InUse`` when
    /// the holder keeps refreshing it.
    public func acquire() async throws {
        if try await hold() { return }
        let deadline = ContinuousClock.now + ttl + .seconds(1)
        var lastTTL = try await client.call(["PTTL", key]).int ?? -2
        while ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(250))
            if try await hold() { return }
            let current = try await client.call(["PTTL", key]).int ?? -2
            if current > lastTTL + 100 {
                let holder = try await client.call(["GET", key]).string ?? "unknown"
                throw InUse(consumer: consumer, holder: holder)
            }
            lastTTL = current
        }
        let holder = try await client.call(["GET", key]).string ?? "unknown"
        throw InUse(consumer: consumer, holder: holder)
    }

    /// Refreshes the key; `false` means another process has taken the name.
    public func hold() async throws -> Bool {
        let reply = try await QueueScripts.holdConsumer.run(on: client, keys: [key], args: [token, String(ttl.milliseconds)])
        return reply.int == 1
    }

    public func release() async {
        _ = try? await QueueScripts.releaseConsumer.run(on: client, keys: [key], args: [token])
    }
}
