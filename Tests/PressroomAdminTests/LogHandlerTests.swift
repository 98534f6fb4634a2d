import Foundation
import Logging
@testable import PressroomAdmin
import Testing

@Suite struct LogHandlerTests {
    static let nastyValues = [
        "plain",
        "",
        "two words",
        "a=b",
        "say \"hi\"",
        "back\\slash",
        "line one\nline two",
        "tab\there\r\n",
        "bell\u{07} nul\u{00} esc\u{1B} del\u{7F}",
        "ünïcödé ✓ 写真",
        "trailing\\",
        "\"",
    ]

    @Test func logfmtWritesOneEscapedLinePerEvent() throws {
        let lines = LineCollector()
        var logger = Logger(label: "pressroom.queue") { LogfmtLogHandler(label: $0, level: .info, output: lines.output) }
        logger[metadataKey: "consumer"] = "host-1"
        logger.info(
            "job \"done\"\nnext",
            metadata: ["job_id": "01J=abc", "queue": "derive", "type": "thumbnail", "attempt": "2", "empty": ""]
        )
        let line = try #require(lines.all.first)
        #expect(lines.all.count == 1)
        #expect(line.hasSuffix("\n"))
        #expect(line.filter { $0 == "\n" }.count == 1)
        #expect(line.contains(#" msg="job \"done\"\nnext" "#))
        #expect(line.contains(#" job_id="01J=abc""#))
        #expect(line.contains(" queue=derive"))
        #expect(line.contains(" attempt=2"))
        #expect(line.contains(#" empty="""#))
        #expect(line.contains(" consumer=host-1"))
        #expect(line.contains(" level=info "))
        #expect(line.contains(" label=pressroom.queue"))
        #expect(line.range(of: #"^ts=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z "#, options: .regularExpression) != nil)

        let pairs = try #require(LogfmtParser.parse(line))
        let fields = Dictionary(pairs, uniquingKeysWith: { first, _ in first })
        #expect(fields["msg"] == "job \"done\"\nnext")
        #expect(fields["job_id"] == "01J=abc")
        #expect(pairs.map(\.0).prefix(4) == ["ts", "level", "msg", "label"])
    }

    @Test(arguments: nastyValues)
    func logfmtValuesRoundTrip(_ value: String) throws {
        let lines = LineCollector()
        let logger = Logger(label: "t") { LogfmtLogHandler(label: $0, output: lines.output) }
        logger.info("\(value)", metadata: ["v": "\(value)", "weird key=\"x\"": "1"])
        let line = try #require(lines.all.first)
        #expect(line.filter { $0 == "\n" }.count == 1)
        let fields = try #require(LogfmtParser.parse(line))
        #expect(fields.first { $0.0 == "msg" }?.1 == value)
        #expect(fields.first { $0.0 == "v" }?.1 == value)
        #expect(fields.contains { $0 == ("weird_key__x_", "1") })
    }

    @Test func logfmtFlattensNestedMetadata() throws {
        let lines = LineCollector()
        let logger = Logger(label: "t") { LogfmtLogHandler(label: $0, output: lines.output) }
        logger.warning("retry", metadata: ["retry": ["delay": "2s", "attempt": "3"], "tags": ["a", "b c"]])
        let line = try #require(lines.all.first)
        let fields = try #require(LogfmtParser.parse(line))
        #expect(fields.first { $0.0 == "retry.delay" }?.1 == "2s")
        #expect(fields.first { $0.0 == "retry.attempt" }?.1 == "3")
        #expect(fields.first { $0.0 == "tags" }?.1 == "[a b c]")
        #expect(fields.first { $0.0 == "level" }?.1 == "warning")
    }

    @Test(arguments: nastyValues)
    func jsonValuesRoundTrip(_ value: String) throws {
        let lines = LineCollector()
        let logger = Logger(label: "pressroom.\"x\"") { JSONLogHandler(label: $0, output: lines.output) }
        logger.error("\(value)", metadata: ["job_id": "\(value)"])
        let line = try #require(lines.all.first)
        #expect(line.hasSuffix("}\n"))
        #expect(line.filter { $0 == "\n" }.count == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["msg"] as? String == value)
        #expect(object["job_id"] as? String == value)
        #expect(object["level"] as? String == "error")
        #expect(object["label"] as? String == "pressroom.\"x\"")
    }

    @Test func jsonKeepsStructureAndProtectsFixedKeys() throws {
        let lines = LineCollector()
        var logger = Logger(label: "pressroom") { JSONLogHandler(label: $0, output: lines.output) }
        logger[metadataKey: "consumer"] = "worker-3"
        logger.info(
            "started",
            metadata: ["queue": "render", "attempt": "1", "msg": "shadow", "ids": ["a", "b"], "retry": ["delay": "2s"]]
        )
        let line = try #require(lines.all.first)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["msg"] as? String == "started")
        #expect(object["_msg"] as? String == "shadow")
        #expect(object["consumer"] as? String == "worker-3")
        #expect(object["queue"] as? String == "render")
        #expect(object["ids"] as? [String] == ["a", "b"])
        #expect((object["retry"] as? [String: String])?["delay"] == "2s")
        let timestamp = try #require(object["ts"] as? String)
        #expect(timestamp.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"#, options: .regularExpression) != nil)
    }

    @Test(arguments: [LogFormat.logfmt, .json])
    func respectsLevelAndMetadataProvider(_ format: LogFormat) throws {
        let lines = LineCollector()
        let provider = Logger.MetadataProvider { ["trace_id": "t-42"] }
        var logger = Logger(label: "p") {
            PressroomLogging.makeHandler(label: $0, format: format, level: .notice, output: lines.output, metadataProvider: provider)
        }
        logger.info("hidden")
        logger.notice("shown")
        #expect(lines.all.count == 1)
        #expect(try #require(lines.all.first).contains("t-42"))
        logger.logLevel = .debug
        logger.debug("now shown")
        #expect(lines.all.count == 2)
    }

    @Test func timestampsAreRFC3339UTCWithMilliseconds() {
        #expect(LogTimestamp.format(seconds: 0, nanoseconds: 5_000_000) == "1970-01-01T00:00:00.005Z")
        #expect(LogTimestamp.format(seconds: 1_795_936_804, nanoseconds: 123_999_999) == "2026-11-29T07:20:04.123Z")
    }
}

extension LogHandlerTests {
    /// The file-descriptor output writes whole lines to a real descriptor (a pipe here).
    @Test func fileDescriptorOutputWritesWholeLines() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]) }
        let logger = Logger(label: "pipe") { LogfmtLogHandler(label: $0, output: .fileDescriptor(fds[1])) }
        logger.info("first", metadata: ["job_id": "j1"])
        logger.info("second line\nstill second", metadata: ["job_id": "j2"])
        close(fds[1])
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(fds[0], &buffer, buffer.count)
            if count <= 0 { break }
            received += buffer[0..<count]
        }
        let lines = String(decoding: received, as: UTF8.self).split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines[0].contains("msg=first") && lines[0].hasSuffix("job_id=j1"))
        #expect(lines[1].contains(#"msg="second line\nstill second""#) && lines[1].hasSuffix("job_id=j2"))
    }
}
