import Foundation
import Metrics

/// The fulfilment metrics (names in docs/metrics.md). Handles are made once
/// per label set and cached: swift-metrics lookups are not free on the hot path.
public final class FulfillmentMetrics: Sendable {
    public static let orderToAccepted = "pressroom_order_to_vendor_accepted_seconds"
    public static let vendorRequest = "pressroom_vendor_request_seconds"
    public static let vendorWait = "pressroom_vendor_wait_seconds"
    public static let orders = "pressroom_orders"
    public static let ignoredTransitions = "pressroom_order_transitions_ignored_total"
    public static let breakerState = "pressroom_vendor_breaker_state"
    public static let tickets = "pressroom_vendor_tickets_total"
    public static let all = [orderToAccepted, vendorRequest, vendorWait, orders, ignoredTransitions, breakerState, tickets]

    private let timers = Cache<Metrics.Timer>()
    private let gauges = Cache<Gauge>()
    private let counters = Cache<Counter>()

    public init() {}

    func request(vendor: String, outcome: String, since started: ContinuousClock.Instant) {
        let timer = timers.get("\(vendor)|\(outcome)") {
            Metrics.Timer(label: Self.vendorRequest, dimensions: [("vendor", vendor), ("outcome", outcome)])
        }
        timer.recordNanoseconds((ContinuousClock.now - started).nanosecondsClamped)
    }

    /// Time a request waited for one of the vendor's `maxInFlight` connections.
    func waited(vendor: String, since queued: ContinuousClock.Instant) {
        let timer = timers.get("wait|\(vendor)") { Metrics.Timer(label: Self.vendorWait, dimensions: [("vendor", vendor)]) }
        timer.recordNanoseconds((ContinuousClock.now - queued).nanosecondsClamped)
    }

    func accepted(vendor: String, afterMs: Int64) {
        let timer = timers.get("accepted|\(vendor)") { Metrics.Timer(label: Self.orderToAccepted, dimensions: [("vendor", vendor)]) }
        timer.recordNanoseconds(max(0, afterMs) * 1_000_000)
    }

    func ticket(vendor: String, how: String) {
        counters.get("ticket|\(vendor)|\(how)") { Counter(label: Self.tickets, dimensions: [("vendor", vendor), ("how", how)]) }.increment()
    }

    public func ignored(state: OrderState) {
        counters.get("ignored|\(state.rawValue)") { Counter(label: Self.ignoredTransitions, dimensions: [("state", state.rawValue)]) }.increment()
    }

    public func orders(_ state: OrderState, count: Int) {
        gauges.get("orders|\(state.rawValue)") { Gauge(label: Self.orders, dimensions: [("state", state.rawValue)]) }.record(count)
    }

    /// 0 closed, 1 half-open, 2 open.
    public func breaker(vendor: String, state: CircuitBreaker.State) {
        let value: Int
        switch state {
        case .closed: value = 0
        case .halfOpen: value = 1
        case .open: value = 2
        }
        gauges.get("breaker|\(vendor)") { Gauge(label: Self.breakerState, dimensions: [("vendor", vendor)]) }.record(value)
    }

    final class Cache<Value: Sendable>: Sendable {
        private let values = Mutex<[String: Value]>([:])
        func get(_ key: String, make: () -> Value) -> Value {
            values.withLock { dict in
                if let value = dict[key] { return value }
                let value = make()
                dict[key] = value
                return value
            }
        }
    }
}

import Synchronization

extension Duration {
    var nanosecondsClamped: Int64 {
        let (s, atto) = components
        return s * 1_000_000_000 + atto / 1_000_000_000
    }
}
