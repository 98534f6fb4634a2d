import Foundation
import Logging
import Metrics
import PressroomAdmin
import ServiceLifecycle
import Synchronization
import Testing

/// Runs a real AdminServer on an ephemeral loopback port inside a ServiceGroup,
/// hands its port to `body`, then shuts it down gracefully.
private func withAdminServer(
    metrics: PressroomMetrics = PressroomMetrics(),
    readiness: @escaping @Sendable () async -> Readiness = { Readiness(checks: []) },
    _ body: (UInt16) async throws -> Void
) async throws {
    let server = try AdminServer(
        configuration: .init(host: "127.0.0.1", port: 0),
        metrics: metrics,
        readiness: readiness,
        logger: .quiet
    )
    let group = ServiceGroup(configuration: .init(services: [server], logger: .quiet))
    try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        let port = try await server.waitUntilListening()
        do {
            try await body(port)
        } catch {
            await group.triggerGracefulShutdown()
            throw error
        }
        await group.triggerGracefulShutdown()
        try await tasks.next()
    }
}

@Suite struct AdminServerTests {
    @Test func metricsEndpointServesRecordedMetricsInPrometheusFormat() async throws {
        let metrics = PressroomMetrics()
        let factory = metrics.factory
        let dimensions = [("queue", "derive"), ("type", "thumbnail")]
        Counter(label: PressroomMetricName.jobsStarted, dimensions: dimensions, factory: factory).increment(by: 3)
        Counter(label: PressroomMetricName.jobsSucceeded, dimensions: dimensions, factory: factory).increment(by: 2)
        Counter(
            label: PressroomMetricName.jobsFailed,
            dimensions: dimensions + [("class", "permanent")],
            factory: factory
        ).increment()
        FloatingPointCounter(label: PressroomMetricName.jobCPUSeconds, dimensions: dimensions, factory: factory)
            .increment(by: 1.25)
        let durations = Metrics.Timer(label: PressroomMetricName.jobDuration, dimensions: dimensions, factory: factory)
        durations.recordMilliseconds(42)
        durations.recordSeconds(400)
        Metrics.Timer(label: PressroomMetricName.enqueueToPreview, factory: factory).recordMilliseconds(1200)
        Gauge(label: PressroomMetricName.queueLength, dimensions: [("queue", "derive")], factory: factory).record(17)
        Gauge(label: PressroomMetricName.redisUp, factory: factory).record(1)

        try await withAdminServer(metrics: metrics) { port in
            let response = try await HTTPGet.fetch(port: port, path: "/metrics")
            #expect(response.status == 200)
            #expect(response.contentType == "text/plain; version=0.0.4; charset=utf-8")

            let exposition = Exposition(response.body)
            let labels = ["queue": "derive", "type": "thumbnail"]
            #expect(exposition.types["pressroom_jobs_started_total"] == "counter")
            #expect(exposition.types["pressroom_job_duration_seconds"] == "histogram")
            #expect(exposition.types["pressroom_queue_length"] == "gauge")
            #expect(exposition.value("pressroom_jobs_started_total", labels) == 3)
            #expect(exposition.value("pressroom_jobs_succeeded_total", labels) == 2)
            #expect(exposition.value("pressroom_jobs_failed_total", labels.merging(["class": "permanent"]) { $1 }) == 1)
            #expect(exposition.value("pressroom_job_cpu_seconds_total", labels) == 1.25)
            #expect(exposition.value("pressroom_queue_length", ["queue": "derive"]) == 17)
            #expect(exposition.value("pressroom_redis_up") == 1)

            // Histogram in seconds with Pressroom's buckets (5 ms … 10 min).
            #expect(exposition.value("pressroom_job_duration_seconds_count", labels) == 2)
            let sum = try #require(exposition.value("pressroom_job_duration_seconds_sum", labels))
            #expect(abs(sum - 400.042) < 1e-9)
            let buckets = exposition.samples
                .filter { $0.name == "pressroom_job_duration_seconds_bucket" && $0.labels["queue"] == "derive" }
                .compactMap { sample in sample.labels["le"].flatMap(Double.init).map { ($0, sample.value) } }
            let bounds = buckets.map(\.0).filter(\.isFinite)
            #expect(bounds.min() == 0.005)
            #expect(bounds.max() == 600)
            #expect(buckets.first { $0.0 == 0.025 }?.1 == 0)
            #expect(buckets.first { $0.0 == 0.05 }?.1 == 1)
            #expect(buckets.first { $0.0 == 300 }?.1 == 1)
            #expect(buckets.first { $0.0 == 600 }?.1 == 2)
            #expect(buckets.first { $0.0 == .infinity }?.1 == 2)

            // The preview-latency histogram uses its own, denser buckets.
            let preview = exposition.samples.filter { $0.name == "pressroom_enqueue_to_preview_seconds_bucket" }
            #expect(preview.contains { $0.labels["le"].flatMap(Double.init) == 1.5 && $0.value == 1 })
            #expect(preview.contains { $0.labels["le"].flatMap(Double.init) == 1 && $0.value == 0 })
        }
    }

    @Test func readinessFlipsWithTheInjectedChecks() async throws {
        let box = ReadinessBox(Readiness(checks: [.passing("redis"), .passing("groups"), .passing("draining")]))
        try await withAdminServer(readiness: { box.current }) { port in
            let ready = try await HTTPGet.fetch(port: port, path: "/readyz")
            #expect(ready.status == 200)
            #expect(ready.contentType == "application/json")
            let readyBody = try #require(try JSONSerialization.jsonObject(with: Data(ready.body.utf8)) as? [String: Any])
            #expect(readyBody["ready"] as? Bool == true)

            box.set(Readiness(checks: [
                .failing("redis", detail: "connection refused (127.0.0.1:6399)"),
                .passing("groups"),
                .passing("draining"),
            ]))
            let down = try await HTTPGet.fetch(port: port, path: "/readyz")
            #expect(down.status == 503)
            let downBody = try #require(try JSONSerialization.jsonObject(with: Data(down.body.utf8)) as? [String: Any])
            #expect(downBody["ready"] as? Bool == false)
            #expect(downBody["failing"] as? [String] == ["redis"])
            let checks = try #require(downBody["checks"] as? [[String: Any]])
            #expect(checks.first?["detail"] as? String == "connection refused (127.0.0.1:6399)")

            box.set(Readiness(checks: [.passing("redis"), .passing("groups"), .failing("draining", detail: "SIGTERM received")]))
            let draining = try await HTTPGet.fetch(port: port, path: "/readyz")
            #expect(draining.status == 503)
            #expect(draining.body.contains("\"failing\":[\"draining\"]"))

            box.set(Readiness(checks: [.passing("redis"), .passing("groups"), .passing("draining")]))
            #expect(try await HTTPGet.fetch(port: port, path: "/readyz").status == 200)

            // Liveness does not depend on readiness.
            box.set(Readiness(checks: [.failing("redis", detail: "down")]))
            let health = try await HTTPGet.fetch(port: port, path: "/healthz")
            #expect(health.status == 200)
            #expect(health.body == "ok\n")
        }
    }

    @Test func unknownPathsAndMethodsAreRejected() async throws {
        try await withAdminServer { (port: UInt16) async throws -> Void in
            #expect(try await HTTPGet.fetch(port: port, path: "/nope").status == 404)
            #expect(try await HTTPGet.fetch(port: port, path: "/metrics", method: "POST").status == 405)
            #expect(try await HTTPGet.fetch(port: port, path: "/healthz", method: "DELETE").status == 405)
        }
    }

    @Test func gracefulShutdownClosesThePort() async throws {
        let server = try AdminServer(
            configuration: .init(port: 0),
            metrics: PressroomMetrics(),
            readiness: { Readiness(checks: []) },
            logger: .quiet
        )
        let group = ServiceGroup(configuration: .init(services: [server], logger: .quiet))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let port = try await server.waitUntilListening()
            #expect(port != 0)
            #expect(try await HTTPGet.fetch(port: port, path: "/healthz").status == 200)
            await group.triggerGracefulShutdown()
            // The group (and so the server's run()) returns without an error.
            try await tasks.next()
            #expect(await server.listeningPort == nil)
            await #expect(throws: (any Error).self) {
                _ = try await HTTPGet.fetch(port: port, path: "/healthz")
            }
        }
    }

    @Test func rejectsAHostThatIsNotAnAddress() {
        #expect(throws: AdminServerError.self) {
            _ = try AdminServer(
                configuration: .init(host: "admin.example.com", port: 0),
                metrics: PressroomMetrics(),
                readiness: { Readiness(checks: []) },
                logger: .quiet
            )
        }
    }

    @Test func aPortInUseFailsTheService() async throws {
        try await withAdminServer { (port: UInt16) async throws -> Void in
            let second = try AdminServer(
                configuration: .init(host: "127.0.0.1", port: port),
                metrics: PressroomMetrics(),
                readiness: { Readiness(checks: []) },
                logger: .quiet
            )
            let error = try await #require(throws: AdminServerError.self) {
                try await second.run()
            }
            #expect(error.message.contains("127.0.0.1:\(port)"))
            #expect(error.message.contains("Address already in use"))
            #expect(!error.isTransient)
        }
    }
}

/// Lets the test change what the readiness closure returns.
private final class ReadinessBox: Sendable {
    private let state: Mutex<Readiness>

    init(_ initial: Readiness) {
        state = Mutex(initial)
    }

    var current: Readiness { state.withLock { $0 } }

    func set(_ readiness: Readiness) { state.withLock { $0 = readiness } }
}
