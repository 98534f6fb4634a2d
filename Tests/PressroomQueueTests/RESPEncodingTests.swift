@testable import PressroomQueue
import Testing

@Suite struct RESPEncodingTests {
    @Test func commandsAreEncodedAsHiredisWould() {
        let command = RESPCommand(["SET", "k", "värde", ""])
        #expect(String(decoding: command.bytes, as: UTF8.self) == "*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$6\r\nvärde\r\n$0\r\n\r\n")
        #expect(RESPCommand(bytes: [Array("PING".utf8)]).bytes == Array("*1\r\n$4\r\nPING\r\n".utf8))
    }

    @Test func argumentWriterMatchesTheArrayForm() {
        var written = RESPPipeline()
        written.append(argumentCount: 6) {
            $0.add("XADD"); $0.add("s"); $0.add(Int64(0)); $0.add(1_234_567_890_123); $0.add(-42); $0.add(Int64.min)
        }
        var listed = RESPPipeline()
        listed.append(["XADD", "s", "0", "1234567890123", "-42", String(Int64.min)])
        #expect(written.bytes == listed.bytes)
        #expect(written.count == 1)
        let long = String(repeating: "x", count: 1234)
        #expect(RESPCommand([long]).bytes.starts(with: Array("*1\r\n$1234\r\n".utf8)))
    }

    @Test func runningMarkersAreValidJSON() throws {
        let marker = JobState.running(consumer: "host \"a\"\\\n\u{1}", entry: "17-3")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(marker.utf8)) as? [String: String])
        #expect(object["consumer"] == "host \"a\"\\\n\u{1}")
        #expect(object["entry"] == "17-3")
        #expect(JobState.isRunning(marker))
        #expect(JobState.isRunning(marker, entry: "17-3"))
        #expect(!JobState.isRunning(marker, entry: "17-30"))
    }
}

import Foundation
