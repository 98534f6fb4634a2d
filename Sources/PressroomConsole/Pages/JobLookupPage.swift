import Foundation
import PressroomQueue

/// A job id across every queue: its state key (running or finished, with the
/// result), its dead letters and its events (searched among the newest
/// ``eventWindow`` of each queue's events: bounded, never a full scan).
struct JobLookupBody: Sendable {
    struct State: Sendable {
        var queue: String, status: String, stateClass: String
        var attempt: String?, finishedAt: String?, consumer: String?, result: String?
    }

    struct Event: Sendable {
        var when: String, queue: String, event: String, eventClass: String, attempt: String, consumer: String, detail: String
    }

    struct Dead: Sendable { var queue: String; var reason: String; var deadAtFull: String; var link: String }

    var query: String
    var searched: Bool
    var found: Bool
    var states: [State]
    var deadLetters: [Dead]
    var hasDeadLetters: Bool
    var events: [Event]
    var hasEvents: Bool
    var eventWindow: String

    static let eventWindow = 2000

    /// The events of one job id in one partition of a queue, newest first.
    static func events(_ source: ConsoleSource, keys: QueueKeys, jobID: String) async throws -> [[String: String]] {
        let reply = try await source.client.call(["XREVRANGE", keys.events, "+", "-", "COUNT", String(eventWindow)])
        return StreamEntry.parseEntries(reply).compactMap { entry in
            let map = Dictionary(entry.fields ?? [], uniquingKeysWith: { a, _ in a })
            return map["id"] == jobID ? map : nil
        }
    }

    static func load(_ source: ConsoleSource, id: String?) async throws -> JobLookupBody {
        var body = JobLookupBody(query: id ?? "", searched: id != nil, found: false, states: [], deadLetters: [], hasDeadLetters: false,
                                 events: [], hasEvents: false, eventWindow: Formatting.count(eventWindow))
        guard let id else { return body }
        // Every partition: after a change of the partition count an id's old one may still hold it.
        for keys in source.places() {
            let queue = ConsoleSource.placeName(keys)
            if let value = try await source.client.call(["GET", keys.job(id)]).string {
                let object = (try? JSONSerialization.jsonObject(with: Data(value.utf8))) as? [String: Any] ?? [:]
                let status = object["status"] as? String ?? "unknown"
                var result: String?
                if let r = object["result"], !(r is NSNull),
                   let data = try? JSONSerialization.data(withJSONObject: r, options: [.prettyPrinted, .sortedKeys, .fragmentsAllowed, .withoutEscapingSlashes]) {
                    result = String(decoding: data, as: UTF8.self)
                }
                body.states.append(State(
                    queue: queue, status: status, stateClass: status == "succeeded" ? "ok" : status == "running" ? "warn" : "plain",
                    attempt: (object["attempt"] as? Int).map(String.init),
                    finishedAt: (object["finished_at"] as? Int64 ?? (object["finished_at"] as? Int).map(Int64.init)).map { Formatting.time(ms: $0) },
                    consumer: object["consumer"] as? String, result: result))
            }
            let dead = StreamEntry.parseEntries(try await source.client.call(["XREVRANGE", keys.dead, "+", "-", "COUNT", String(eventWindow)]))
            for entry in dead {
                let letter = DeadLetter(queue: keys.queue, partition: keys.partition, entry: entry)
                guard letter.jobID == id else { continue }
                body.deadLetters.append(Dead(queue: queue, reason: letter.reason, deadAtFull: Formatting.time(letter.deadAt),
                                             link: "/console/dead/entry?" + FormFields.query([("ref", letter.reference)])))
            }
            for event in try await events(source, keys: keys, jobID: id) {
                let name = event["event"] ?? "?"
                let detail = [event["error"], event["reason"], event["result"].map { "result " + $0 },
                              event["duration_ms"].map { "took \($0) ms" }].compactMap { $0 }.joined(separator: " · ")
                body.events.append(Event(
                    when: event["at"].flatMap { Int64($0) }.map { Formatting.time(ms: $0) } ?? "—", queue: queue, event: name,
                    eventClass: name == "succeeded" ? "ok" : name == "dead_lettered" ? "bad" : name == "retrying" ? "warn" : "plain",
                    attempt: event["attempt"] ?? "", consumer: event["consumer"] ?? "", detail: String(detail.prefix(1000))))
            }
        }
        body.hasDeadLetters = !body.deadLetters.isEmpty
        body.hasEvents = !body.events.isEmpty
        body.found = !body.states.isEmpty || body.hasDeadLetters || body.hasEvents
        return body
    }
}
