import PressroomAdmin
import Synchronization

/// A LogOutput that keeps the lines in memory.
final class LineCollector: Sendable {
    private let lines = Mutex<[String]>([])

    var output: LogOutput {
        LogOutput { bytes in self.lines.withLock { $0.append(String(decoding: bytes, as: UTF8.self)) } }
    }

    var all: [String] { lines.withLock { $0 } }
}
