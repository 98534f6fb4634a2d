/// The metric names Pressroom emits through swift-metrics, in one place so the
/// engine, the handlers, the dashboard and the alert rules cannot drift apart.
///
/// Counters are `Counter` (or `FloatingPointCounter` for CPU seconds), gauges
/// are `Gauge`, and the `_seconds` histograms are `Metrics.Timer`s: the
/// Prometheus factory turns timers into histograms with the buckets from
/// ``PressroomMetrics/histogramBuckets``. `docs/metrics.md` lists dimensions.
public enum PressroomMetricName {
    // MARK: Jobs (dimensions: queue, type)
    public static let jobsStarted = "pressroom_jobs_started_total"
    public static let jobsSucceeded = "pressroom_jobs_succeeded_total"
    public static let jobsRetried = "pressroom_jobs_retried_total"
    /// Extra dimension `class`: `transient` or `permanent`.
    public static let jobsFailed = "pressroom_jobs_failed_total"
    /// Extra dimension `reason`.
    public static let jobsDeadLettered = "pressroom_jobs_dead_lettered_total"
    /// Deliveries of an already-completed job id, acknowledged without running the handler.
    public static let jobsDuplicates = "pressroom_jobs_duplicates_total"
    /// A `FloatingPointCounter`, fed by `CPUTimeAttributor` (PressroomSupport).
    public static let jobCPUSeconds = "pressroom_job_cpu_seconds_total"
    public static let jobDuration = "pressroom_job_duration_seconds"
    /// Dimension `queue` only.
    public static let jobQueueWait = "pressroom_job_queue_wait_seconds"
    /// No dimensions: time from enqueue of an upload to its first preview being stored.
    public static let enqueueToPreview = "pressroom_enqueue_to_preview_seconds"

    // MARK: Object store (dimensions: backend, operation, status|class)
    public static let objectStoreRequests = "pressroom_object_store_requests_total"
    public static let objectStoreBytes = "pressroom_object_store_bytes_total"
    public static let objectStoreErrors = "pressroom_object_store_errors_total"

    // MARK: Queue gauges (dimension: queue)
    public static let queueLength = "pressroom_queue_length"
    public static let queuePending = "pressroom_queue_pending"
    public static let queueLag = "pressroom_queue_lag"
    public static let queueOldestPendingSeconds = "pressroom_queue_oldest_pending_seconds"
    public static let queueDelayed = "pressroom_queue_delayed"
    public static let queueDeadLetters = "pressroom_queue_dead_letters"
    public static let queueConsumers = "pressroom_queue_consumers"
    public static let jobsInFlight = "pressroom_jobs_in_flight"
    /// No dimensions: 1 while Redis answers, 0 otherwise.
    public static let redisUp = "pressroom_redis_up"

    // MARK: Fulfilment (emitted by PressroomFulfillment, which spells the same strings)
    /// Histogram, dimension `vendor`: order recorded → vendor accepted.
    public static let orderToVendorAccepted = "pressroom_order_to_vendor_accepted_seconds"
    /// Histogram, dimensions `vendor`, `outcome`.
    public static let vendorRequest = "pressroom_vendor_request_seconds"
    /// Histogram, dimension `vendor`: wait for one of the vendor's `maxInFlight` permits.
    public static let vendorWait = "pressroom_vendor_wait_seconds"
    /// Gauge, dimension `state`: orders per state (sampled from Redis).
    public static let orders = "pressroom_orders"
    /// Counter, dimension `state`: out-of-order transitions ignored.
    public static let orderTransitionsIgnored = "pressroom_order_transitions_ignored_total"
    /// Gauge, dimension `vendor`: 0 closed, 1 half-open, 2 open.
    public static let vendorBreakerState = "pressroom_vendor_breaker_state"
    /// Counter, dimensions `vendor`, `how` (created, replayed, adopted…).
    public static let vendorTickets = "pressroom_vendor_tickets_total"
    // MARK: Uploads' lifecycle
    /// Dimensions queue, type: jobs put back by a ``JobDeferral`` (over a shop's quota).
    public static let jobsDeferred = "pressroom_jobs_deferred_total"
    /// Dimension `result`: clean, infected, cached (verdict known), error (no verdict).
    public static let scans = "pressroom_scans_total"
    public static let scanBytes = "pressroom_scan_bytes_total"
    public static let scanDuration = "pressroom_scan_duration_seconds"
    /// Dimensions shop, type, decision (admitted, deferred, refused).
    public static let quotaDecisions = "pressroom_quota_decisions_total"
    /// Dimensions shop, type: source bytes admitted under a bytes-per-day quota.
    public static let quotaBytes = "pressroom_quota_bytes_total"
    public static let sweepObjectsDeleted = "pressroom_sweep_objects_deleted_total"
    public static let sweepBytesReclaimed = "pressroom_sweep_bytes_reclaimed_total"
    /// Dimension `scope`: upload or customer.
    public static let erasures = "pressroom_erasures_total"
    /// Histogram: CPU seconds an upload cost by the time its derive first succeeded (scan and derive, retries included).
    public static let uploadCostCPUSeconds = "pressroom_upload_cost_cpu_seconds"

    /// Every name above, for checks that dashboards and alerts only use real metrics.
    public static let all: [String] = [
        jobsStarted, jobsSucceeded, jobsRetried, jobsFailed, jobsDeadLettered, jobsDuplicates, jobCPUSeconds,
        jobDuration, jobQueueWait, enqueueToPreview,
        objectStoreRequests, objectStoreBytes, objectStoreErrors,
        queueLength, queuePending, queueLag, queueOldestPendingSeconds, queueDelayed,
        queueDeadLetters, queueConsumers, jobsInFlight, redisUp,
        orderToVendorAccepted, vendorRequest, vendorWait, orders, orderTransitionsIgnored, vendorBreakerState, vendorTickets,
        jobsDeferred, scans, scanBytes, scanDuration, quotaDecisions, quotaBytes,
        sweepObjectsDeleted, sweepBytesReclaimed, erasures, uploadCostCPUSeconds,
    ]
}
