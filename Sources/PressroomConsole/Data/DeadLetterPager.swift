import Foundation
import PressroomQueue

/// Newest-first pages of dead letters across queues, by range reads from a
/// per-partition cursor (`XREVRANGE … COUNT`), so page 500 of 100,000 entries
/// costs what page 1 does. Filters are applied to what is read; the age
/// bounds become the range's ends, and each request scans a bounded number
/// of entries, so a rare match never turns into a full scan per page.
struct DeadLetterPager: Sendable {
    let source: ConsoleSource
    /// Entries one request reads per queue at most while looking for matches.
    var scanBudget = 20_000

    struct Page: Sendable {
        var letters: [DeadLetter]
        /// Per partition (``ConsoleSource/placeName(_:)``): the entry id to
        /// continue below; absent partitions are done.
        var next: [String: String]
        /// Whether a queue's budget ran out before the page filled (matches may be further down).
        var budgetExhausted: Bool
    }

    /// `cursor`: per partition, the id of the last entry shown (exclusive),
    /// or absent to start at the newest. Partitions not in `cursor` when it
    /// is non-empty are finished.
    func page(filter: DeadLetterAdmin.Filter, cursor: [String: String], limit: Int) async throws -> Page {
        let places = Dictionary(source.places(filter.queue).map { (ConsoleSource.placeName($0), $0) }, uniquingKeysWith: { a, _ in a })
        let active = places.keys.sorted().filter { cursor.isEmpty || cursor[$0] != nil }
        var candidates: [(String, DeadLetter)] = []
        var scannedTo: [String: String] = [:]
        var exhaustedBudget = false
        for queue in active {
            let read = try await scan(places[queue]!, filter: filter, after: cursor[queue], want: limit)
            candidates += read.matches.map { (queue, $0) }
            if let position = read.scannedTo { scannedTo[queue] = position }
            exhaustedBudget = exhaustedBudget || read.budgetExhausted
        }
        // Newest first by (ms, seq), numerically: within a queue this is the
        // stream's own order, so what a page takes from a queue is a prefix of it.
        candidates.sort { a, b in
            let x = Self.position(a.1.id), y = Self.position(b.1.id)
            return x != y ? x > y : a.0 < b.0
        }
        let shown = Array(candidates.prefix(limit))
        var next: [String: String] = [:]
        for queue in active {
            let fromQueue = candidates.filter { $0.0 == queue }
            let taken = shown.filter { $0.0 == queue }
            if taken.count < fromQueue.count {
                // Matches left over: continue right after the last one shown
                // (or where this page started, if none was shown).
                if let last = taken.last { next[queue] = last.1.id } else if let at = cursor[queue] { next[queue] = at } else {
                    next[queue] = "+"
                }
            } else if let position = scannedTo[queue] {
                next[queue] = position
            }
        }
        return Page(letters: shown.map(\.1), next: next, budgetExhausted: exhaustedBudget)
    }

    static func position(_ id: String) -> (UInt64, UInt64) {
        let parts = id.split(separator: "-")
        return (parts.first.flatMap { UInt64($0) } ?? 0, parts.count > 1 ? UInt64(parts[1]) ?? 0 : 0)
    }

    private struct QueueRead {
        var matches: [DeadLetter]
        /// Where the scan stopped with more entries below, nil when it reached the end.
        var scannedTo: String?
        var budgetExhausted: Bool
    }

    private func scan(_ keys: QueueKeys, filter: DeadLetterAdmin.Filter, after: String?, want: Int) async throws -> QueueRead {
        let key = keys.dead
        var end: String
        if let after, after != "+" {
            end = "(" + after
        } else if let before = filter.before {
            end = String(Int64(before.timeIntervalSince1970 * 1000) - 1)
        } else {
            end = "+"
        }
        let start = filter.since.map { String(Int64($0.timeIntervalSince1970 * 1000)) } ?? "-"
        var matches: [DeadLetter] = []
        var scanned = 0
        let count = max(want + 1, 100)
        while scanned < scanBudget {
            let entries = StreamEntry.parseEntries(try await source.client.call(["XREVRANGE", key, end, start, "COUNT", String(count)]))
            scanned += entries.count
            for entry in entries {
                let letter = DeadLetter(queue: keys.queue, partition: keys.partition, entry: entry)
                guard filter.matches(letter) else { continue }
                matches.append(letter)
            }
            guard entries.count == count, let last = entries.last else {
                return QueueRead(matches: matches, scannedTo: nil, budgetExhausted: false)
            }
            end = "(" + last.id
            if matches.count > want {
                return QueueRead(matches: matches, scannedTo: last.id, budgetExhausted: false)
            }
        }
        return QueueRead(matches: matches, scannedTo: String(end.dropFirst()), budgetExhausted: true)
    }
}
