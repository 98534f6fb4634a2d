import Foundation
import PressroomQueue

/// What the console reads: the fleet's queues in one Redis. Any process can
/// serve it, because all of this state lives in Redis, not in the process.
public struct ConsoleSource: Sendable {
    public let namespace: String
    public let queues: [String]
    public let client: RedisClient
    /// The queue whose hash slot holds the orders (`fulfill`), if fulfilment runs.
    public let ordersQueue: String?
    /// Shown in the footer, so an operator knows which build answered.
    public let version: String
    /// Events stream length for the console's own audit events.
    public let eventsMaxLength: Int

    public init(namespace: String, queues: [String], client: RedisClient, ordersQueue: String? = nil,
                version: String = "dev", eventsMaxLength: Int = 100_000) {
        self.namespace = namespace
        self.queues = queues.sorted()
        self.client = client
        self.ordersQueue = ordersQueue
        self.version = version
        self.eventsMaxLength = eventsMaxLength
    }

    /// The release shown when the daemon names none.
    public static let defaultVersion = "0.1.0"

    func keys(_ queue: String) -> QueueKeys { QueueKeys(namespace: namespace, queue: queue) }

    var deadLetters: DeadLetterAdmin { DeadLetterAdmin(namespace: namespace, queues: queues, client: client) }
}
