import PressroomQueue

/// Redis keys of orders, all in the fulfil queue's hash slot (of the order's
/// partition, when the queue is partitioned), so one script changes an order,
/// publishes the event and enqueues follow-up jobs at once. An order lives on
/// the partition its id picks, which is where its `{<orderId>}:…` jobs go.
public struct OrderKeys: Sendable, Equatable {
    public let queue: QueueKeys
    /// The fulfil queue's partitions; `nil` keeps every order in `queue`.
    private let layout: QueuePartitions?

    /// `queue` is the fulfil queue's keys (one partition's).
    public init(queue: QueueKeys) {
        self.queue = queue
        self.layout = nil
    }

    /// Orders spread over the fulfil queue's partitions.
    public init(partitions: QueuePartitions) {
        self.queue = partitions.keys(0)
        self.layout = partitions.readCount > 1 ? partitions : nil
    }

    public init(namespace: String, queue: String = "fulfill") {
        self.init(queue: QueueKeys(namespace: namespace, queue: queue))
    }

    /// The keys of the partition order `id` lives on.
    public func of(order id: String) -> OrderKeys {
        layout.map { OrderKeys(queue: $0.keys(forJob: id)) } ?? self
    }

    /// One per partition, for what looks across orders (indexes, vendor refs).
    public var partitions: [OrderKeys] {
        layout?.all.map(OrderKeys.init(queue:)) ?? [self]
    }

    /// Hash: the order record (state, version, per-state times, intents, results).
    public func order(_ id: String) -> String { queue.scoped("order:" + id) }
    /// List of JSON entries: every transition and step, oldest first.
    public func timeline(_ id: String) -> String { queue.scoped("order:" + id + ":timeline") }
    /// Hash: what the order has cost (CPU seconds, runs, bytes written; vendor calls once settled).
    public func cost(_ id: String) -> String { queue.scoped("order:" + id + ":cost") }
    /// Sorted set per state: member order id, score ms since it entered the state.
    public func index(_ state: OrderState) -> String { queue.scoped("orders:state:" + state.rawValue) }
    /// Hash: `<vendor>|id|<vendor order id>` and `<vendor>|key|<key>` → order id (webhooks).
    public var refs: String { queue.scoped("orders:refs") }
    /// Where order events go (the queue's own events stream).
    public var events: String { queue.events }
    /// Where follow-up jobs go (the queue's stream).
    public var jobs: String { queue.stream }
}
