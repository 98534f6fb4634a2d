import Foundation
import PressroomAdmin
import Testing

@Suite struct SystemdNotifierTests {
    @Test func sendsExactDatagramsToAFilesystemSocket() throws {
        let receiver = try DatagramReceiver.filesystem()
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": receiver.address])
        #expect(notifier.isEnabled)

        try notifier.ready()
        #expect(receiver.receive() == "READY=1")
        try notifier.status("in-flight: derive 2/4, render 1/2\nsecond line")
        #expect(receiver.receive() == "STATUS=in-flight: derive 2/4, render 1/2 second line")
        try notifier.watchdog()
        #expect(receiver.receive() == "WATCHDOG=1")
        try notifier.stopping()
        #expect(receiver.receive() == "STOPPING=1")
        try notifier.ready(status: "consuming derive, render")
        #expect(receiver.receive() == "READY=1\nSTATUS=consuming derive, render")
        try notifier.stopping(status: "draining 3 jobs")
        #expect(receiver.receive() == "STOPPING=1\nSTATUS=draining 3 jobs")
        #expect(receiver.drain().isEmpty)
    }

    @Test func sendsToAnAbstractNamespaceSocket() throws {
        let receiver = try DatagramReceiver.abstract()
        #expect(receiver.address.hasPrefix("@"))
        let notifier = SystemdNotifier(socketAddress: receiver.address)
        try notifier.ready()
        try notifier.watchdog()
        #expect(receiver.receive() == "READY=1")
        #expect(receiver.receive() == "WATCHDOG=1")
    }

    @Test func reloadingCarriesAMonotonicTimestamp() throws {
        let receiver = try DatagramReceiver.filesystem()
        try SystemdNotifier(socketAddress: receiver.address).reloading()
        let message = try #require(receiver.receive())
        let lines = message.split(separator: "\n")
        #expect(lines.first == "RELOADING=1")
        #expect(lines.count == 2)
        let usec = try #require(lines.last?.split(separator: "=").last.flatMap { UInt64($0) })
        #expect(usec > 0)
    }

    @Test func isANoOpOutsideSystemd() throws {
        let notifier = SystemdNotifier(environment: [:])
        #expect(!notifier.isEnabled)
        try notifier.ready()
        try notifier.watchdog()
        try notifier.stopping()
        #expect(!SystemdNotifier(environment: ["NOTIFY_SOCKET": ""]).isEnabled)
    }

    @Test func reportsBadAddressesAsPermanentErrors() throws {
        let relative = SystemdNotifier(socketAddress: "run/notify.sock")
        let relativeError = try #require(throws: SystemdNotifyError.self) { try relative.ready() }
        #expect(!relativeError.isTransient)
        #expect(relativeError.message.contains("run/notify.sock"))

        let tooLong = SystemdNotifier(socketAddress: "/" + String(repeating: "x", count: 200))
        #expect(throws: SystemdNotifyError.self) { try tooLong.ready() }

        let missing = SystemdNotifier(socketAddress: "/nonexistent-\(UUID().uuidString)/notify.sock")
        let missingError = try #require(throws: SystemdNotifyError.self) { try missing.ready() }
        #expect(missingError.errno == ENOENT)
        #expect(!missingError.isTransient)
        #expect(missingError.message.contains("No such file or directory"))
    }
}
