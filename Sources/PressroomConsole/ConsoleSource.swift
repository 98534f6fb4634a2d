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
    /// Queues of more than one partition; the others have one.
    private let layouts: [String: QueuePartitions]

    public init(namespace: String, queues: [String], client: RedisClient, ordersQueue: String? = nil,
                version: String = "dev", eventsMaxLength: Int = 100_000, partitions: [QueuePartitions] = []) {
        self.namespace = namespace
        self.queues = queues.sorted()
        self.layouts = Dictionary(partitions.map { ($0.queue, $0) }, uniquingKeysWith: { a, _ in a })
        self.client = client
        self.ordersQueue = ordersQueue
        self.version = version
        self.eventsMaxLength = eventsMaxLength
    }

    /// The release shown when the daemon names none.
    public static let defaultVersion = "0.1.0"

    /// Partition 0's keys: a queue's only ones, unless it is partitioned.
    func keys(_ queue: String) -> QueueKeys { QueueKeys(namespace: namespace, queue: queue) }

    func partitions(_ queue: String) -> QueuePartitions {
        layouts[queue] ?? QueuePartitions(namespace: namespace, queue: queue)
    }

    /// Every partition of `queue` (of every queue when nil), in order.
    func places(_ queue: String? = nil) -> [QueueKeys] {
        (queue.map { [$0] } ?? queues).flatMap { partitions($0).all }
    }

    /// What the pages call a partition: its queue, or `queue/p` beyond
    /// partition 0 (the prefix of its dead letters' references).
    static func placeName(_ keys: QueueKeys) -> String {
        keys.partition == 0 ? keys.queue : "\(keys.queue)/\(keys.partition)"
    }

    var deadLetters: DeadLetterAdmin { DeadLetterAdmin(queues: queues.map(partitions), namespace: namespace, client: client) }
}
