import Metrics

/// The per-queue gauges alerts and dashboards read, fed from ``QueueStatus``
/// samples. Every process samples; the values are the same for all, so
/// dashboards take `max by (queue)`.
struct QueueGauges: Sendable {
    let length: Gauge
    let pending: Gauge
    let lag: Gauge
    let oldestPending: Gauge
    let delayed: Gauge
    let deadLetters: Gauge
    let consumers: Gauge

    init(queue: String) {
        let dims = [("queue", queue)]
        length = Gauge(label: "pressroom_queue_length", dimensions: dims)
        pending = Gauge(label: "pressroom_queue_pending", dimensions: dims)
        lag = Gauge(label: "pressroom_queue_lag", dimensions: dims)
        oldestPending = Gauge(label: "pressroom_queue_oldest_pending_seconds", dimensions: dims)
        delayed = Gauge(label: "pressroom_queue_delayed", dimensions: dims)
        deadLetters = Gauge(label: "pressroom_queue_dead_letters", dimensions: dims)
        consumers = Gauge(label: "pressroom_queue_consumers", dimensions: dims)
    }

    func record(_ status: QueueStatus) {
        length.record(status.length)
        pending.record(status.pending)
        lag.record(status.lag ?? 0)
        oldestPending.record(status.oldestPendingAge ?? 0)
        delayed.record(status.delayed)
        deadLetters.record(status.deadLetters)
        // Heartbeats, not XINFO idle: a quiet consumer is not a dead one.
        consumers.record(status.liveConsumers)
    }
}
