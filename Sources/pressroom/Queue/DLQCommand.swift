import ArgumentParser
import Dispatch
import Foundation
import PressroomDaemon
import PressroomQueue
import Synchronization

struct DLQCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq",
        abstract: "Inspect, replay or purge dead letters.",
        subcommands: [List.self, Show.self, Replay.self, Purge.self, Stats.self])

    /// Filters shared by list, replay --all, purge and stats.
    struct Filters: ParsableArguments {
        @Option(help: "Only this queue.") var queue: String?
        @Option(help: "Only this job type.") var type: String?
        @Option(help: "Only entries whose reason contains TEXT (case-insensitive).") var reason: String?
        @Option(help: "Only entries dead-lettered within DURATION (e.g. 2h, 7d).") var since: String?
        @Option(help: "At most N entries.") var limit: Int?

        func filter(olderThan: String? = nil) throws -> DeadLetterAdmin.Filter {
            func ago(_ text: String, _ flag: String) throws -> Date {
                guard let d = DurationText(parsing: text) else { throw ValidationError("\(flag) takes a duration such as 30m, 2h or 7d") }
                return Date().addingTimeInterval(-d.duration.seconds)
            }
            return DeadLetterAdmin.Filter(queue: queue, type: type, reason: reason,
                                          since: try since.map { try ago($0, "--since") },
                                          before: try olderThan.map { try ago($0, "--older-than") }, limit: limit)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List dead letters (oldest first).")
        @OptionGroup var options: ConfigOptions
        @OptionGroup var filters: Filters
        @Flag(help: "Print JSON for scripts.") var json = false

        func run() async throws {
            try await withAdmin(options) { admin in
                let letters = try await admin.list(try filters.filter())
                if json { return printJSON(letters) }
                let now = Date()
                print(row(["ID", "TYPE", "JOB", "ATTEMPTS", "CLASS", "AGE", "REASON"]))
                for l in letters {
                    print(row([l.reference, l.type ?? "-", l.jobID ?? "-", "\(l.attempts)", l.errorClass, age(now.timeIntervalSince(l.deadAt)), String(l.reason.prefix(70))]))
                }
                if letters.isEmpty { print("(no dead letters match)") }
            }
        }

        func row(_ cells: [String]) -> String {
            let widths = [26, 10, 20, 9, 10, 6]
            return zip(cells, widths + [0]).map { cell, w in w == 0 ? cell : cell.padding(toLength: max(w, cell.count + 1), withPad: " ", startingAt: 0) }.joined()
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Everything kept about one dead letter.")
        @OptionGroup var options: ConfigOptions
        @Argument(help: "Dead-letter id as dlq list prints it (QUEUE/ID).") var id: String
        @Option(help: "The queue, if the id could be ambiguous.") var queue: String?
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await withAdmin(options) { admin in
                guard let letter = try await admin.show(id: id, queue: queue) else {
                    throw ValidationError("no dead letter with id \(id)")
                }
                if json { return printJSON(letter) }
                print("dead letter \(letter.reference)")
                print("  job id:        \(letter.jobID ?? "-")")
                print("  type:          \(letter.type ?? "-")")
                print("  attempts:      \(letter.attempts)")
                print("  error class:   \(letter.errorClass)")
                print("  reason:        \(letter.reason)")
                print("  dead at:       \(iso(letter.deadAt))")
                print("  first failure: \(letter.firstFailureAt.map(iso) ?? "-")")
                print("  consumer:      \(letter.consumer ?? "-")")
                print("  entry:         \(letter.originalEntryID ?? "-")")
                print("  payload:       \(letter.payload ?? "-")")
                print("  all fields:")
                for (k, v) in letter.fields.sorted(by: { $0.key < $1.key }) { print("    \(k) = \(v)") }
            }
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Put dead letters back on their queue with attempts reset.")
        @OptionGroup var options: ConfigOptions
        @OptionGroup var filters: Filters
        @Argument(help: "Dead-letter ids (QUEUE/ID); or use --all with filters.") var ids: [String] = []
        @Flag(help: "Replay every entry matching the filters.") var all = false
        @Flag(help: "Show what would be replayed; change nothing.") var dryRun = false

        func validate() throws {
            if ids.isEmpty == !all { throw ValidationError("give dead-letter ids, or --all (with filters)") }
        }

        func run() async throws {
            try await withAdmin(options) { admin in
                let stop = InterruptFlag()
                let progress = Progress(verb: dryRun ? "would replay" : "replayed")
                var counts: [DeadLetterAdmin.ReplayOutcome: Int] = [:]
                try await forSelection(admin, ids: ids, queue: filters.queue, filter: try filters.filter(), stop: stop) { letter in
                    if dryRun {
                        print("would replay \(letter.reference) (\(letter.type ?? "-"), job \(letter.jobID ?? "-"))")
                        counts[.replayed, default: 0] += 1
                    } else {
                        let outcome = try await admin.replay(letter)
                        counts[outcome, default: 0] += 1
                        if outcome == .notReplayable { printError("skipped \(letter.reference): \(letter.reason)") }
                    }
                    progress.step()
                }
                progress.finish()
                let summary = "\(dryRun ? "would replay" : "replayed") \(counts[.replayed] ?? 0); already gone \(counts[.gone] ?? 0); not replayable \(counts[.notReplayable] ?? 0)"
                print(stop.isSet ? "interrupted: \(summary)" : summary)
                if stop.isSet { throw ExitCode(130) }
            }
        }
    }

    struct Purge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete dead letters for good.")
        @OptionGroup var options: ConfigOptions
        @OptionGroup var filters: Filters
        @Argument(help: "Dead-letter ids (QUEUE/ID).") var ids: [String] = []
        @Option(help: "Purge entries older than DURATION (e.g. 30d).") var olderThan: String?
        @Flag(help: "Purge everything matching the filters.") var all = false
        @Flag(name: .shortAndLong, help: "Do not ask for confirmation.") var yes = false

        func validate() throws {
            let modes = [!ids.isEmpty, olderThan != nil, all].filter { $0 }.count
            if modes != 1 { throw ValidationError("give ids, --older-than DURATION or --all") }
        }

        func run() async throws {
            try await withAdmin(options) { admin in
                let filter = try filters.filter(olderThan: olderThan)
                if !yes {
                    guard isatty(STDIN_FILENO) == 1 else { throw ValidationError("refusing to purge without --yes when not on a terminal") }
                    let count = ids.isEmpty ? try await admin.stats(filter).total : ids.count
                    FileHandle.standardError.write(Data("Purge \(count) dead letter(s) for good? [y/N] ".utf8))
                    guard let answer = readLine(), ["y", "yes"].contains(answer.lowercased()) else {
                        print("nothing purged")
                        return
                    }
                }
                let stop = InterruptFlag()
                let progress = Progress(verb: "purged")
                var removed = 0
                var batch: [DeadLetter] = []
                try await forSelection(admin, ids: ids, queue: filters.queue, filter: filter, stop: stop) { letter in
                    batch.append(letter)
                    if batch.count >= 100 {
                        removed += try await admin.purge(batch)
                        progress.step(batch.count)
                        batch.removeAll()
                    }
                }
                removed += try await admin.purge(batch)
                progress.step(batch.count)
                progress.finish()
                print(stop.isSet ? "interrupted: purged \(removed)" : "purged \(removed)")
                if stop.isSet { throw ExitCode(130) }
            }
        }
    }

    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Counts by queue, type and error class.")
        @OptionGroup var options: ConfigOptions
        @OptionGroup var filters: Filters
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await withAdmin(options) { admin in
                let stats = try await admin.stats(try filters.filter())
                if json { return printJSON(stats) }
                print("dead letters: \(stats.total)")
                let partitions = stats.byPartition.isEmpty ? [] : [("by partition", stats.byPartition)]
                for (title, counts) in [("by queue", stats.byQueue)] + partitions + [("by type", stats.byType), ("by error class", stats.byErrorClass), ("by reason", stats.byReasonKind)] {
                    print(title + ":")
                    for (k, v) in counts.sorted(by: { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }) { print("  \(k.padding(toLength: 24, withPad: " ", startingAt: 0))\(v)") }
                }
            }
        }
    }
}

// MARK: Helpers

private func withAdmin(_ options: ConfigOptions, _ body: (DeadLetterAdmin) async throws -> Void) async throws {
    let configuration = try options.load().configuration
    let client = RedisClient(topology: try configuration.redisTopology, name: "dlq")
    defer { client.shutdown() }
    try await body(DeadLetterAdmin(queues: configuration.queues.keys.map(configuration.partitions(ofQueue:)),
                                   namespace: configuration.redis.namespace, client: client))
}

/// Explicit ids, or every entry matching the filter, page by page; stops
/// between entries once Ctrl-C was pressed (each entry's action is atomic).
private func forSelection(_ admin: DeadLetterAdmin, ids: [String], queue: String?, filter: DeadLetterAdmin.Filter,
                          stop: InterruptFlag, _ body: (DeadLetter) async throws -> Void) async throws {
    if !ids.isEmpty {
        for id in ids {
            if stop.isSet { return }
            guard let letter = try await admin.show(id: id, queue: queue) else {
                printError("no dead letter with id \(id)")
                continue
            }
            try await body(letter)
        }
        return
    }
    try await admin.forEachPage(filter) { page in
        for letter in page {
            if stop.isSet { return false }
            try await body(letter)
        }
        return !stop.isSet
    }
}

private func printJSON<T: Encodable>(_ value: T) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    encoder.dateEncodingStrategy = .iso8601
    print(String(decoding: (try? encoder.encode(value)) ?? Data("null".utf8), as: UTF8.self))
}

private func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

private func iso(_ date: Date) -> String { ISO8601DateFormatter().string(from: date) }

private func age(_ seconds: TimeInterval) -> String {
    switch seconds {
    case ..<120: return "\(Int(seconds))s"
    case ..<7200: return "\(Int(seconds / 60))m"
    case ..<172_800: return "\(Int(seconds / 3600))h"
    default: return "\(Int(seconds / 86400))d"
    }
}

/// Set by SIGINT/SIGTERM so bulk operations stop between two atomic steps.
final class InterruptFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    private let sources: Mutex<[DispatchSourceSignal]>

    init() {
        var made: [DispatchSourceSignal] = []
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            made.append(source)
        }
        sources = Mutex(made)
        sources.withLock { list in
            for source in list {
                source.setEventHandler { [self] in self.flag.store(true, ordering: .releasing) }
                source.resume()
            }
        }
    }

    var isSet: Bool { flag.load(ordering: .acquiring) }
}

/// A one-line progress counter on a terminal; silent when stderr is piped.
final class Progress {
    private let verb: String
    private var count = 0
    private let enabled = isatty(STDERR_FILENO) == 1

    init(verb: String) { self.verb = verb }

    func step(_ n: Int = 1) {
        count += n
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\(verb) \(count)…".utf8))
    }

    func finish() {
        if enabled && count > 0 { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}
