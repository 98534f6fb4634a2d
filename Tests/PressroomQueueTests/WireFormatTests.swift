import Foundation
@testable import PressroomQueue
import Testing

struct WireFormatTests {
    @Test func parsesAValidEntry() throws {
        let job = try WireFormat.parse(entryID: "1-0", fields: [("v", "1"), ("id", "abc"), ("type", "derive"), ("payload", #"{"a":1}"#), ("enqueued_at", "1700000000000"), ("attempt", "2")], queue: "derive").get()
        #expect(job.id == "abc")
        #expect(job.attempt == 2)
        #expect(job.enqueuedAt == Date(timeIntervalSince1970: 1_700_000_000))
        #expect(String(decoding: job.payload, as: UTF8.self) == #"{"a":1}"#)
    }

    static let malformed: [([(String, String)], String)] = [
        ([("id", "a"), ("type", "t"), ("payload", "{}")], "missing field 'v'"),
        ([("v", "2"), ("id", "a"), ("type", "t"), ("payload", "{}")], "unsupported schema version v=2"),
        ([("v", "1"), ("id", "a b"), ("type", "t"), ("payload", "{}")], "printable characters without spaces"),
        ([("v", "1"), ("id", "a"), ("payload", "{}")], "missing field 'type'"),
        ([("v", "1"), ("id", "a"), ("type", "t")], "missing field 'payload'"),
        ([("v", "1"), ("id", "a"), ("type", "t"), ("payload", "{")], "not valid JSON"),
        ([("v", "1"), ("id", "a"), ("type", "t"), ("payload", "{}"), ("attempt", "0")], "'attempt' must be a positive integer"),
    ]

    @Test func rejectsMalformedEntries() {
        for (fields, expected) in Self.malformed {
            guard case .failure(let malformed) = WireFormat.parse(entryID: "1-0", fields: fields, queue: "q") else {
                Issue.record("accepted \(fields)")
                continue
            }
            #expect(malformed.reason.contains(expected), "\(malformed.reason)")
        }
    }
    @Test func retryBackoffGrowsAndIsCapped() {
        let policy = RetryPolicy(maxAttempts: 10, initialBackoff: .seconds(1), maxBackoff: .seconds(10), multiplier: 2, jitter: 0)
        #expect(policy.delay(afterAttempt: 1) == .seconds(1))
        #expect(policy.delay(afterAttempt: 3) == .seconds(4))
        #expect(policy.delay(afterAttempt: 9) == .seconds(10))
        let jittered = RetryPolicy(initialBackoff: .seconds(1), jitter: 0.5)
        let samples = (0..<50).map { _ in jittered.delay(afterAttempt: 2).seconds }
        #expect(samples.allSatisfy { (1.0...3.0).contains($0) })
        #expect(Set(samples).count > 1, "jitter spreads retries")
    }

    @Test func durationsParseTheWayOperatorsWriteThem() {
        #expect(DurationText(parsing: "250ms")?.duration == .milliseconds(250))
        #expect(DurationText(parsing: "30s")?.duration == .seconds(30))
        #expect(DurationText(parsing: "5m")?.duration == .seconds(300))
        #expect(DurationText(parsing: "7d")?.duration == .seconds(7 * 86400))
        #expect(DurationText(parsing: "1.5")?.duration == .milliseconds(1500))
        #expect(DurationText(parsing: "soon") == nil)
        #expect(DurationText(.seconds(120)).description == "2m")
    }

    @Test func redisURLsParseAndMaskPasswords() throws {
        let e = try RedisEndpoint(url: "redis://user:s3cret@cache.internal:6380/2")
        #expect(e.address == .tcp(host: "cache.internal", port: 6380))
        #expect(e.database == 2)
        #expect(e.password == "s3cret")
        #expect(!e.description.contains("s3cret"))
        #expect(try RedisEndpoint(url: "unix:///run/redis.sock?db=3").address == .unix(path: "/run/redis.sock"))
        #expect(throws: RedisError.self) { try RedisEndpoint(url: "rediss://host") }
    }
}
