import Metrics
import PressroomAdmin
import Testing

@Suite struct PressroomMetricsTests {
    /// A later part (vendors) adds its own histogram with its own buckets,
    /// through swift-metrics only.
    @Test func laterPartsPlugInTheirOwnMetrics() throws {
        let metrics = PressroomMetrics(
            histogramBuckets: PressroomMetrics.histogramBuckets.merging(
                ["pressroom_vendor_request_duration_seconds": [.milliseconds(100), .seconds(1), .seconds(10)]]
            ) { $1 }
        )
        let vendor = [("vendor", "printful"), ("operation", "create_order")]
        Metrics.Timer(label: "pressroom_vendor_request_duration_seconds", dimensions: vendor, factory: metrics.factory)
            .recordMilliseconds(500)
        Counter(label: "pressroom_vendor_requests_total", dimensions: vendor + [("status", "201")], factory: metrics.factory)
            .increment()

        let exposition = Exposition(String(decoding: metrics.exposition(), as: UTF8.self))
        let labels = ["vendor": "printful", "operation": "create_order"]
        let buckets = exposition.samples.filter { $0.name == "pressroom_vendor_request_duration_seconds_bucket" }
        #expect(buckets.count == 4)  // 0.1, 1, 10, +Inf
        #expect(exposition.value("pressroom_vendor_request_duration_seconds_bucket", labels.merging(["le": "0.1"]) { $1 }) == 0)
        #expect(buckets.first { $0.labels["le"].flatMap(Double.init) == 1 }?.value == 1)
        #expect(exposition.value("pressroom_vendor_requests_total", labels.merging(["status": "201"]) { $1 }) == 1)
    }

    @Test func registriesAreIndependent() {
        let first = PressroomMetrics()
        let second = PressroomMetrics()
        Counter(label: PressroomMetricName.jobsStarted, dimensions: [("queue", "q"), ("type", "t")], factory: first.factory)
            .increment()
        let firstText = String(decoding: first.exposition(), as: UTF8.self)
        let secondText = String(decoding: second.exposition(), as: UTF8.self)
        #expect(Exposition(firstText).value("pressroom_jobs_started_total", ["queue": "q", "type": "t"]) == 1)
        #expect(Exposition(secondText).samples.isEmpty)
    }
}
