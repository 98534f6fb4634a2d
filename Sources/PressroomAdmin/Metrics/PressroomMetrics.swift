import CoreMetrics
import Prometheus
import Synchronization

/// Owns the Prometheus registry that `/metrics` renders and the swift-metrics
/// factory that writes into it.
///
/// Tests build their own instance and hand `factory` to the code under test
/// (or record through it directly), so they never touch the process-wide
/// `MetricsSystem`; the daemon calls ``bootstrap()`` once at start-up so every
/// library that uses the plain swift-metrics API lands in the same registry.
public struct PressroomMetrics: Sendable {
    /// What `/metrics` renders.
    public let registry: PrometheusCollectorRegistry
    /// A swift-metrics factory backed by ``registry``, with Pressroom's buckets.
    public let factory: PrometheusMetricsFactory

    /// - Parameters:
    ///   - registry: a fresh registry by default, so tests never share one.
    ///   - histogramBuckets: buckets per histogram name; timers without an
    ///     entry get ``jobDurationBuckets``. Later parts pass extra entries
    ///     (e.g. vendor latency) merged into ``histogramBuckets``.
    public init(
        registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
        histogramBuckets: [String: [Duration]] = PressroomMetrics.histogramBuckets
    ) {
        self.registry = registry
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = Self.jobDurationBuckets
        factory.durationHistogramBuckets = histogramBuckets
        // Seconds recorded through `Recorder(aggregate: true)` under these names
        // get the same buckets; other value histograms keep the library's defaults.
        factory.valueHistogramBuckets = histogramBuckets.mapValues { $0.map(\.seconds) }
        self.factory = factory
    }

    /// Job durations span a 5 ms no-op to a 10 min print-resolution render.
    public static let jobDurationBuckets: [Duration] = [
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30),
        .seconds(60), .seconds(120), .seconds(300), .seconds(600),
    ]

    /// Enqueue→preview is a user-facing latency with an SLO of a few seconds, so
    /// its buckets are dense between 250 ms and 10 s (the alert reads p95).
    public static let previewLatencyBuckets: [Duration] = [
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .milliseconds(750),
        .seconds(1), .milliseconds(1500), .seconds(2), .seconds(3), .seconds(5),
        .milliseconds(7500), .seconds(10), .seconds(15), .seconds(30), .seconds(60),
        .seconds(120),
    ]

    /// Time spent in the stream before a consumer picks a job up: from
    /// milliseconds when idle to many minutes in a backlog.
    public static let queueWaitBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(5), .milliseconds(25), .milliseconds(100),
        .milliseconds(500), .seconds(1), .seconds(5), .seconds(15), .seconds(30),
        .seconds(60), .seconds(300), .seconds(900), .seconds(3600),
    ]

    /// A vendor API call: tens of milliseconds to a timed-out minute.
    public static let vendorRequestBuckets: [Duration] = [
        .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(75), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5),
        .seconds(10), .seconds(30), .seconds(60),
    ]

    /// Order recorded → vendor accepted: one call when all is well, hours when
    /// a vendor is down (the order waits for it).
    public static let orderToAcceptedBuckets: [Duration] = [
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
        .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(300),
        .seconds(900), .seconds(3600), .seconds(4 * 3600), .seconds(24 * 3600),
    ]

    /// CPU seconds per upload or order: a thumbnail costs milliseconds, a
    /// print-resolution render with retries a minute.
    public static let costBuckets: [Duration] = [
        .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
        .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(300),
    ]

    /// Buckets per histogram name; other timers get ``jobDurationBuckets``.
    public static let histogramBuckets: [String: [Duration]] = [
        PressroomMetricName.vendorRequest: vendorRequestBuckets,
        PressroomMetricName.vendorWait: vendorRequestBuckets,
        PressroomMetricName.orderToVendorAccepted: orderToAcceptedBuckets,
        PressroomMetricName.uploadCostCPUSeconds: costBuckets,
        "pressroom_order_cost_cpu_seconds": costBuckets,
        PressroomMetricName.jobDuration: jobDurationBuckets,
        PressroomMetricName.enqueueToPreview: previewLatencyBuckets,
        PressroomMetricName.jobQueueWait: queueWaitBuckets,
    ]

    private static let bootstrapped = Mutex(false)

    /// Installs ``factory`` as the process-wide `MetricsSystem` factory.
    ///
    /// swift-metrics traps on a second bootstrap, so this is guarded: only the
    /// first call in a process installs a factory and returns `true`.
    @discardableResult
    public func bootstrap() -> Bool {
        let first = Self.bootstrapped.withLock { done -> Bool in
            defer { done = true }
            return !done
        }
        if first {
            MetricsSystem.bootstrap(factory)
        }
        return first
    }

    /// The Prometheus text exposition (format 0.0.4) of everything recorded.
    public func exposition() -> [UInt8] {
        registry.emitToBuffer()
    }
}

extension Duration {
    /// Seconds as a `Double`, for value-histogram buckets.
    fileprivate var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
