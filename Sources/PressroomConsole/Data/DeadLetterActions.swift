import Foundation
import Logging
import PressroomQueue

/// Replay and purge from the console: on exactly the references the operator
/// confirmed, at most `limit` per request, through the same atomic script and
/// commands as `pressroom dlq`. Each action is logged and published as a
/// `console_action` event on the queues it touched.
struct DeadLetterActions: Sendable {
    enum Action: String, Sendable {
        case replay, purge
    }

    struct Reference: Sendable, Hashable {
        var queue: String
        var partition = 0
        var id: String
        /// As ``DeadLetter/reference`` writes it.
        var text: String { partition == 0 ? "\(queue)/\(id)" : "\(queue)/\(partition)/\(id)" }
    }

    struct Report: Sendable {
        var action: Action
        var requested: Int
        var done: Int
        /// Already gone (replayed or purged meanwhile), or nothing to replay.
        var skipped: Int
        /// Beyond the per-request cap: not touched.
        var notAttempted: Int
        var perQueue: [String: (done: Int, skipped: Int)]
    }

    let source: ConsoleSource
    let limit: Int
    let logger: Logger

    /// `QUEUE/ID` or `QUEUE/PARTITION/ID` with a configured queue, one of its
    /// partitions and a stream id; anything else is dropped.
    func parse(_ texts: [String]) -> [Reference] {
        var seen = Set<Reference>()
        var result: [Reference] = []
        for text in texts {
            let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2 || parts.count == 3, let queue = parts.first, let id = parts.last else { continue }
            let partition = parts.count == 3 ? Int(parts[1]) ?? -1 : 0
            guard source.queues.contains(queue), (0..<source.partitions(queue).readCount).contains(partition), Self.isStreamID(id) else { continue }
            let reference = Reference(queue: queue, partition: partition, id: id)
            if seen.insert(reference).inserted { result.append(reference) }
        }
        return result
    }

    static func isStreamID(_ id: String) -> Bool {
        let parts = id.split(separator: "-", omittingEmptySubsequences: false)
        return parts.count == 2 && parts.allSatisfy { !$0.isEmpty && $0.count <= 20 && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }
    }

    func perform(_ action: Action, on references: [Reference], by user: String) async throws -> Report {
        let admin = source.deadLetters
        let now = references.prefix(limit)
        var report = Report(action: action, requested: references.count, done: 0, skipped: 0,
                            notAttempted: references.count - now.count, perQueue: [:])
        for (queue, group) in Dictionary(grouping: now, by: \.queue).sorted(by: { $0.key < $1.key }) {
            var done = 0
            switch action {
            case .replay:
                for reference in group {
                    // Read first: the script needs the job id, and a gone entry is simply skipped.
                    guard let letter = try await admin.show(id: reference.text) else { continue }
                    if try await admin.replay(letter) == .replayed { done += 1 }
                }
            case .purge:
                // XDEL in chunks per partition; what was already gone is not counted as done.
                for (partition, letters) in Dictionary(grouping: group, by: \.partition) {
                    let dead = QueueKeys(namespace: source.namespace, queue: queue, partition: partition).dead
                    var index = letters.startIndex
                    while index < letters.endIndex {
                        let chunk = letters[index..<min(index + 500, letters.endIndex)]
                        done += Int(try await source.client.call(["XDEL", dead] + chunk.map(\.id)).int ?? 0)
                        index = chunk.endIndex
                    }
                }
            }
            let skipped = group.count - done
            report.done += done
            report.skipped += skipped
            report.perQueue[queue] = (done, skipped)
            try await publish(action: action, queue: queue, user: user, requested: group.count, done: done, skipped: skipped)
        }
        logger.notice("console action", metadata: [
            "action": "\(action.rawValue)", "user": "\(user)", "requested": "\(report.requested)", "done": "\(report.done)",
            "skipped": "\(report.skipped)", "not_attempted": "\(report.notAttempted)",
        ])
        return report
    }

    private func publish(action: Action, queue: String, user: String, requested: Int, done: Int, skipped: Int) async throws {
        let at = String(Int64(Date().timeIntervalSince1970 * 1000))
        try await source.client.call([
            "XADD", source.keys(queue).events, "MAXLEN", "~", String(max(1, source.eventsMaxLength)), "*",
            "event", "console_action", "action", "dlq_\(action.rawValue)", "queue", queue, "user", user,
            "requested", String(requested), "done", String(done), "skipped", String(skipped), "at", at,
        ])
    }

    /// Up to `limit` references matching `filter` (plus whether more matched),
    /// snapshotted for the confirmation page.
    func snapshot(filter: DeadLetterAdmin.Filter) async throws -> (references: [Reference], more: Bool) {
        var admin = source.deadLetters
        admin.pageSize = 1000
        var limited = filter
        limited.limit = limit + 1
        var found: [Reference] = []
        try await admin.forEachPage(limited) { page in
            found += page.map { Reference(queue: $0.queue, partition: $0.partition, id: $0.id) }
            return true
        }
        return (Array(found.prefix(limit)), found.count > limit)
    }
}
