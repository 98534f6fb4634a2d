import Metrics

/// A lane's metric handles, made once. Making a swift-metrics handle asks the
/// factory's registry (a lock and a dictionary lookup per label set), which
/// at no-op job rates costs more than the job.
struct LaneMetrics: Sendable {
    struct PerType: Sendable {
        let started: Counter
        let succeeded: Counter
        let retried: Counter
        let deferred: Counter
        let duplicates: Counter
        let failedTransient: Counter
        let failedPermanent: Counter
        let duration: Metrics.Timer
        let cpu: FloatingPointCounter

        init(queue: String, type: String) {
            let dimensions = [("queue", queue), ("type", type)]
            started = Counter(label: "pressroom_jobs_started_total", dimensions: dimensions)
            succeeded = Counter(label: "pressroom_jobs_succeeded_total", dimensions: dimensions)
            retried = Counter(label: "pressroom_jobs_retried_total", dimensions: dimensions)
            deferred = Counter(label: "pressroom_jobs_deferred_total", dimensions: dimensions)
            duplicates = Counter(label: "pressroom_jobs_duplicates_total", dimensions: dimensions)
            failedTransient = Counter(label: "pressroom_jobs_failed_total", dimensions: dimensions + [("class", JobError.Class.transient.rawValue)])
            failedPermanent = Counter(label: "pressroom_jobs_failed_total", dimensions: dimensions + [("class", JobError.Class.permanent.rawValue)])
            duration = Metrics.Timer(label: "pressroom_job_duration_seconds", dimensions: dimensions, preferredDisplayUnit: .seconds)
            cpu = FloatingPointCounter(label: "pressroom_job_cpu_seconds_total", dimensions: dimensions)
        }

        func failed(_ errorClass: JobError.Class) -> Counter {
            errorClass == .transient ? failedTransient : failedPermanent
        }
    }

    let queue: String
    let queueWait: Metrics.Timer
    let inFlight: Gauge
    private let types: [String: PerType]

    /// - Parameter types: the job types registered on this queue; only these
    ///   reach the handlers, so only these need per-type handles.
    init(queue: String, types: [String]) {
        self.queue = queue
        queueWait = Metrics.Timer(label: "pressroom_job_queue_wait_seconds", dimensions: [("queue", queue)], preferredDisplayUnit: .seconds)
        inFlight = Gauge(label: "pressroom_jobs_in_flight", dimensions: [("queue", queue)])
        self.types = Dictionary(uniqueKeysWithValues: types.map { ($0, PerType(queue: queue, type: $0)) })
    }

    func type(_ type: String) -> PerType {
        types[type] ?? PerType(queue: queue, type: type)
    }

    func deadLettered(type: String, reason: String) -> Counter {
        Counter(label: "pressroom_jobs_dead_lettered_total", dimensions: [("queue", queue), ("type", type), ("reason", reason)])
    }
}
