import PressroomQueue

/// Redis keys of orders, all in the fulfil queue's hash slot, so one script
/// changes an order, publishes the event and enqueues follow-up jobs at once.
public struct OrderKeys: Sendable, Equatable {
    public let queue: QueueKeys

    /// `queue` is the fulfil queue's keys (of its partition, when partitioned).
    public init(queue: QueueKeys) { self.queue = queue }

    public init(namespace: String, queue: String = "fulfill") {
        self.queue = QueueKeys(namespace: namespace, queue: queue)
    }

    /// Hash: the order record (state, version, per-state times, intents, results).
    public func order(_ id: String) -> String { queue.scoped("order:" + id) }
    /// List of JSON entries: every transition and step, oldest first.
    public func timeline(_ id: String) -> String { queue.scoped("order:" + id + ":timeline") }
    /// Sorted set per state: member order id, score ms since it entered the state.
    public func index(_ state: OrderState) -> String { queue.scoped("orders:state:" + state.rawValue) }
    /// Hash: `<vendor>|id|<vendor order id>` and `<vendor>|key|<key>` → order id (webhooks).
    public var refs: String { queue.scoped("orders:refs") }
    /// Where order events go (the queue's own events stream).
    public var events: String { queue.events }
    /// Where follow-up jobs go (the queue's stream).
    public var jobs: String { queue.stream }
}
