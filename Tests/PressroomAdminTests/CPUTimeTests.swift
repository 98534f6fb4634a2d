import PressroomSupport
import Synchronization
import Testing

/// A CPU clock the test advances by hand.
private final class ScriptedClock: Sendable {
    private let now = Mutex(Duration.zero)

    func advance(by seconds: Int) { now.withLock { $0 += .seconds(seconds) } }

    var read: @Sendable () -> Duration { { self.now.withLock { $0 } } }
}

@Suite struct CPUTimeTests {
    @Test func aLoneJobGetsAllTheCPUAndConcurrentJobsShareIt() {
        let clock = ScriptedClock()
        let attributor = CPUTimeAttributor(clock: clock.read)

        clock.advance(by: 5)  // before any job: unattributed
        let first = attributor.begin()
        clock.advance(by: 10)  // first alone: +10
        let second = attributor.begin()
        clock.advance(by: 6)  // shared: +3 each
        #expect(attributor.end(first) == .seconds(13))
        clock.advance(by: 4)  // second alone: +4
        #expect(attributor.end(second) == .seconds(7))
        clock.advance(by: 2)
        #expect(attributor.unattributedCPU == .seconds(7))
        #expect(attributor.inFlight == 0)
    }

    @Test func weightsSkewTheShare() {
        let clock = ScriptedClock()
        let attributor = CPUTimeAttributor(clock: clock.read)
        let render = attributor.begin(weight: 1)
        let fulfil = attributor.begin(weight: 0.25)
        clock.advance(by: 10)
        #expect(attributor.end(render) == .seconds(8))
        #expect(attributor.end(fulfil) == .seconds(2))
        #expect(attributor.end(fulfil) == .zero)  // ending twice attributes nothing more
    }

    @Test func processClockSeesRealWork() async {
        let attributor = CPUTimeAttributor()
        let before = ProcessCPUTime.now()
        let (checksum, cpu) = await attributor.measure {
            var value: UInt64 = 0x9E37_79B9_7F4A_7C15
            for index in 0..<20_000_000 {
                value = (value ^ UInt64(index)) &* 0xBF58_476D_1CE4_E5B9
            }
            return value
        }
        #expect(checksum != 0)
        #expect(cpu > .zero)
        #expect(ProcessCPUTime.now() > before)
    }
}

extension CPUTimeTests {
    /// Inside one synchronous stretch the thread clock counts that stretch's work.
    @Test func threadClockCountsSynchronousWork() {
        let before = ProcessCPUTime.currentThread()
        var value: UInt64 = 1
        for index in 0..<20_000_000 {
            value = (value &+ UInt64(index)) &* 0x94D0_49BB_1331_11EB
        }
        #expect(value != 0)
        #expect(ProcessCPUTime.currentThread() > before)
    }
}
