import Foundation
import Logging
import PressroomAdmin
import ServiceLifecycle
import Synchronization
import Testing

@Suite struct WatchdogServiceTests {
    @Test func intervalIsHalfOfWatchdogUsec() {
        let pid = getpid()
        #expect(WatchdogService.pingInterval(environment: ["WATCHDOG_USEC": "30000000"], processID: pid) == .seconds(15))
        #expect(
            WatchdogService.pingInterval(environment: ["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "\(pid)"], processID: pid)
                == .seconds(15)
        )
        // Another process's watchdog, or none at all.
        #expect(WatchdogService.pingInterval(environment: ["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "\(pid + 1)"], processID: pid) == nil)
        #expect(WatchdogService.pingInterval(environment: [:], processID: pid) == nil)
        #expect(WatchdogService.pingInterval(environment: ["WATCHDOG_USEC": "0"], processID: pid) == nil)
        #expect(WatchdogService.pingInterval(environment: ["WATCHDOG_USEC": "soon"], processID: pid) == nil)
    }

    /// Healthy for the first three checks, then wedged: exactly three pings
    /// must arrive, and none once the health check fails.
    @Test func pingsOnlyWhileHealthyAndStopsOnGracefulShutdown() async throws {
        let receiver = try DatagramReceiver.filesystem()
        let counter = CheckCounter()
        let service = WatchdogService(
            notifier: SystemdNotifier(socketAddress: receiver.address),
            interval: .milliseconds(5),
            isHealthy: { counter.next() <= 3 },
            logger: .quiet
        )
        let group = ServiceGroup(configuration: .init(services: [service], logger: .quiet))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            // Wait for three unhealthy checks after the healthy ones (bounded, not timed).
            for _ in 0..<2_000 where counter.count < 6 {
                try await Task.sleep(for: .milliseconds(5))
            }
            await group.triggerGracefulShutdown()
            try await tasks.next()
        }
        #expect(counter.count >= 6)
        #expect(receiver.drain() == ["WATCHDOG=1", "WATCHDOG=1", "WATCHDOG=1"])
    }

    @Test func idlesUntilShutdownWhenNotEnabled() async throws {
        let receiver = try DatagramReceiver.filesystem()
        let counter = CheckCounter()
        let service = WatchdogService(
            notifier: SystemdNotifier(socketAddress: receiver.address),
            interval: nil,
            isHealthy: { counter.next() > 0 },
            logger: .quiet
        )
        let group = ServiceGroup(configuration: .init(services: [service], logger: .quiet))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            await group.triggerGracefulShutdown()
            try await tasks.next()
        }
        #expect(counter.count == 0)
        #expect(receiver.drain().isEmpty)
    }
}

extension WatchdogServiceTests {
    /// ServiceGroup shuts services down in reverse order, so a watchdog listed
    /// before the workers keeps pinging while they drain (systemd must not
    /// kill a worker in the middle of its drain).
    @Test func keepsPingingWhileLaterServicesDrain() async throws {
        let receiver = try DatagramReceiver.filesystem()
        let watchdog = WatchdogService(
            notifier: SystemdNotifier(socketAddress: receiver.address),
            interval: .milliseconds(5),
            isHealthy: { true },
            logger: .quiet
        )
        let worker = DrainingWorker(receiver: receiver)
        let group = ServiceGroup(configuration: .init(services: [watchdog, worker], logger: .quiet))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            await group.triggerGracefulShutdown()
            try await tasks.next()
        }
        #expect(worker.pingsWhileDraining >= 3)
    }
}

/// Stands in for the queue worker: on graceful shutdown it "drains" until it
/// has seen three more watchdog pings (bounded), then returns.
private final class DrainingWorker: Service, @unchecked Sendable {
    // Only touched from run(), one task at a time; read after the group ended.
    private(set) var pingsWhileDraining = 0
    private let receiver: DatagramReceiver

    init(receiver: DatagramReceiver) {
        self.receiver = receiver
    }

    func run() async throws {
        try? await gracefulShutdown()
        _ = receiver.drain()  // pings from before the drain do not count
        for _ in 0..<2_000 where pingsWhileDraining < 3 {
            pingsWhileDraining += receiver.drain().filter { $0 == "WATCHDOG=1" }.count
            if pingsWhileDraining < 3 {
                try await Task.sleep(for: .milliseconds(5))
            }
        }
    }
}

/// Counts health checks made by the service.
private final class CheckCounter: Sendable {
    private let value = Atomic<Int>(0)

    var count: Int { value.load(ordering: .relaxed) }

    func next() -> Int { value.wrappingAdd(1, ordering: .relaxed).newValue }
}
