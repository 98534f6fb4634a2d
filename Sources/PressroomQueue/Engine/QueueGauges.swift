import Metrics

/// The per-queue gauges alerts and dashboards read, fed from ``QueueStatus``
/// samples. Every process samples; the values are the same for all, so
/// dashboards take `max by (queue)`. A partitioned queue also reports
/// length, pending and lag per partition (`pressroom_queue_partition_*`).
struct QueueGauges: Sendable {
    let partitions: QueuePartitions
    let length: Gauge
    let pending: Gauge
    let lag: Gauge
    let oldestPending: Gauge
    let delayed: Gauge
    let deadLetters: Gauge
    let consumers: Gauge
    let perPartition: [(length: Gauge, pending: Gauge, lag: Gauge)]

    init(partitions: QueuePartitions) {
        self.partitions = partitions
        let queue = partitions.queue
        let dims = [("queue", queue)]
        length = Gauge(label: "pressroom_queue_length", dimensions: dims)
        pending = Gauge(label: "pressroom_queue_pending", dimensions: dims)
        lag = Gauge(label: "pressroom_queue_lag", dimensions: dims)
        oldestPending = Gauge(label: "pressroom_queue_oldest_pending_seconds", dimensions: dims)
        delayed = Gauge(label: "pressroom_queue_delayed", dimensions: dims)
        deadLetters = Gauge(label: "pressroom_queue_dead_letters", dimensions: dims)
        consumers = Gauge(label: "pressroom_queue_consumers", dimensions: dims)
        perPartition = partitions.readCount == 1 ? [] : (0..<partitions.readCount).map { p in
            let dims = [("queue", queue), ("partition", String(p))]
            return (Gauge(label: "pressroom_queue_partition_length", dimensions: dims),
                    Gauge(label: "pressroom_queue_partition_pending", dimensions: dims),
                    Gauge(label: "pressroom_queue_partition_lag", dimensions: dims))
        }
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
        for (gauges, part) in zip(perPartition, status.partitions ?? []) {
            gauges.length.record(part.length)
            gauges.pending.record(part.pending)
            gauges.lag.record(part.lag ?? 0)
        }
    }
}
