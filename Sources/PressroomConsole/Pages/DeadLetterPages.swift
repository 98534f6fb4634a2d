import Foundation
import PressroomQueue

/// The operator's dead-letter filter as the list, the confirmation and the
/// result pages pass it along (GET query or hidden form fields).
struct DeadLetterFilterForm: Sendable {
    var queue: String?
    var type: String?
    var reason: String?
    var older: String?
    var newer: String?
    var error: String?

    var active: Bool { queue != nil || type != nil || reason != nil || older != nil || newer != nil }

    init(_ fields: FormFields, queues: [String]) {
        if let q = fields.text("queue") {
            if queues.contains(q) { queue = q } else { error = "Unknown queue." }
        }
        type = fields.text("type", maxLength: 100)
        reason = fields.text("reason", maxLength: 200)
        older = fields.text("older", maxLength: 20)
        newer = fields.text("newer", maxLength: 20)
        if let older, Formatting.parseAge(older) == nil { error = "“Older than” takes an age such as 30m, 2h or 7d."; self.older = nil }
        if let newer, Formatting.parseAge(newer) == nil { error = "“Newer than” takes an age such as 30m, 2h or 7d."; self.newer = nil }
    }

    func filter(now: Date) -> DeadLetterAdmin.Filter {
        DeadLetterAdmin.Filter(queue: queue, type: type, reason: reason,
                               since: newer.flatMap(Formatting.parseAge).map { now.addingTimeInterval(-$0) },
                               before: older.flatMap(Formatting.parseAge).map { now.addingTimeInterval(-$0) })
    }

    var pairs: [(String, String?)] { [("queue", queue), ("type", type), ("reason", reason), ("older", older), ("newer", newer)] }
    var hiddenFields: [FieldPair] { pairs.compactMap { n, v in v.map { FieldPair(name: n, value: $0) } } }
    var listLink: String {
        let q = FormFields.query(pairs)
        return "/console/dead" + (q.isEmpty ? "" : "?" + q)
    }
}

struct DeadLetterRow: Sendable {
    var reference: String, queue: String, type: String, jobID: String, errorClass: String, classBadge: String
    var reason: String, attempts: String, deadAgo: String, deadAtFull: String, link: String

    init(_ letter: DeadLetter, now: Date) {
        reference = letter.reference
        queue = letter.queue
        type = letter.type ?? "—"
        jobID = letter.jobID ?? "(none)"
        errorClass = letter.reasonKind
        classBadge = letter.errorClass == "transient" ? "warn" : "bad"
        reason = String(letter.reason.prefix(300))
        attempts = String(letter.attempts)
        deadAgo = Formatting.duration(seconds: max(0, now.timeIntervalSince(letter.deadAt)))
        deadAtFull = Formatting.time(letter.deadAt)
        link = "/console/dead/entry?" + FormFields.query([("ref", letter.reference)])
    }
}

struct DeadListBody: Sendable {
    struct QueueOption: Sendable { var name: String; var count: String; var selected: Bool }
    struct FilterView: Sendable { var type: String?; var reason: String?; var older: String?; var newer: String?; var active: Bool }

    var queueOptions: [QueueOption]
    var filter: FilterView
    var filterError: String?
    var budgetNote: String?
    var filterFields: [FieldPair]
    var letters: [DeadLetterRow]
    var hasLetters: Bool
    var nextLink: String?
    var firstLink: String?
    var bulkLimit: String

    static func load(_ source: ConsoleSource, fields: FormFields, settings: ConsoleSettings, now: Date = Date()) async throws -> DeadListBody {
        let form = DeadLetterFilterForm(fields, queues: source.queues)
        var cursor: [String: String] = [:]
        for place in source.places().map(ConsoleSource.placeName) {
            if let at = fields["after." + place], at == "+" || DeadLetterActions.isStreamID(at) { cursor[place] = at }
        }
        let limit = fields.int("limit", default: settings.pageSize, in: 5...500)
        var options: [QueueOption] = []
        for queue in source.queues {
            var count = 0
            for keys in source.places(queue) { count += Int(try await source.client.call(["XLEN", keys.dead]).int ?? 0) }
            options.append(QueueOption(name: queue, count: Formatting.count(count), selected: queue == form.queue))
        }
        let page = try await DeadLetterPager(source: source).page(filter: form.filter(now: now), cursor: cursor, limit: limit)
        var nextLink: String?
        if !page.next.isEmpty {
            let positions = page.next.sorted { $0.key < $1.key }.map { ("after." + $0.key, Optional($0.value)) }
            nextLink = "/console/dead?" + FormFields.query(form.pairs + positions + (limit == settings.pageSize ? [] : [("limit", String(limit))]))
        }
        return DeadListBody(
            queueOptions: options,
            filter: FilterView(type: form.type, reason: form.reason, older: form.older, newer: form.newer, active: form.active),
            filterError: form.error,
            budgetNote: page.budgetExhausted ? "Few entries match this filter: this page looked through a bounded slice of the stream. “Older →” continues further down." : nil,
            filterFields: form.hiddenFields,
            letters: page.letters.map { DeadLetterRow($0, now: now) }, hasLetters: !page.letters.isEmpty,
            nextLink: nextLink, firstLink: cursor.isEmpty ? nil : form.listLink,
            bulkLimit: Formatting.count(settings.bulkLimit))
    }
}

struct DeadDetailBody: Sendable {
    struct AttemptError: Sendable { var attempt: String; var when: String; var errorClass: String; var classBadge: String; var message: String }

    struct Detail: Sendable {
        var reference: String, jobID: String, jobLink: String, type: String, errorClass: String, classBadge: String
        var reason: String, attempts: String, deadAtFull: String, deadAgo: String
        var firstFailure: String, lastFailure: String, enqueued: String, consumer: String, originalEntry: String
        var errors: [AttemptError]
        var payload: String
        var payloadNote: String?
        var otherFields: [FieldPair]
    }

    var letter: Detail?

    /// Fields shown in their own places; the rest go to "Other fields".
    static let shownFields: Set<String> = [WireFormat.Field.payload, WireFormat.Field.id, WireFormat.Field.type, "dead_reason", "dead_error_class",
                                           "attempts", WireFormat.Field.firstFailureAt, WireFormat.Field.lastFailureAt, "consumer", "original_id",
                                           WireFormat.Field.enqueuedAt]

    static func load(_ source: ConsoleSource, letter: DeadLetter, now: Date = Date()) async throws -> DeadDetailBody {
        func ms(_ field: String) -> String {
            letter.fields[field].flatMap { Int64($0) }.map { Formatting.time(ms: $0) } ?? "—"
        }
        // Every attempt's error, from the queue's events for this job id.
        var errors: [AttemptError] = []
        if let jobID = letter.jobID {
            let keys = QueueKeys(namespace: source.namespace, queue: letter.queue, partition: letter.partition)
            let events = try await JobLookupBody.events(source, keys: keys, jobID: jobID)
            for event in events.reversed() where ["retrying", "dead_lettered"].contains(event["event"] ?? "") {
                let cls = event["error_class"] ?? "?"
                errors.append(AttemptError(attempt: event["attempt"] ?? "?", when: event["at"].flatMap { Int64($0) }.map { Formatting.time(ms: $0) } ?? "—",
                                           errorClass: cls, classBadge: cls == "transient" ? "warn" : "bad", message: event["error"] ?? ""))
            }
        }
        if errors.isEmpty {
            errors.append(AttemptError(attempt: String(letter.attempts), when: Formatting.time(letter.deadAt), errorClass: letter.errorClass,
                                       classBadge: letter.errorClass == "transient" ? "warn" : "bad", message: letter.reason))
        }
        let raw = letter.payload ?? ""
        let pretty = Formatting.prettyJSON(raw)
        var note: String?
        // Bytes that are not UTF-8 arrive as U+FFFD (RedisValue decodes lossily).
        if letter.payload == nil { note = "no payload" } else if raw.contains("\u{FFFD}") {
            note = "not valid UTF-8 (shown with replacement characters)"
        } else if !pretty.isJSON { note = "not JSON" }
        let row = DeadLetterRow(letter, now: now)
        return DeadDetailBody(letter: Detail(
            reference: letter.reference, jobID: row.jobID, jobLink: "/console/jobs?" + FormFields.query([("id", letter.jobID ?? "")]),
            type: row.type, errorClass: row.errorClass, classBadge: row.classBadge, reason: letter.reason, attempts: row.attempts,
            deadAtFull: row.deadAtFull, deadAgo: row.deadAgo, firstFailure: ms(WireFormat.Field.firstFailureAt),
            lastFailure: ms(WireFormat.Field.lastFailureAt), enqueued: ms(WireFormat.Field.enqueuedAt),
            consumer: letter.consumer ?? "—", originalEntry: letter.originalEntryID ?? "—", errors: errors,
            payload: String(pretty.text.prefix(200_000)), payloadNote: note,
            otherFields: letter.fields.filter { !shownFields.contains($0.key) }.sorted { $0.key < $1.key }
                .map { FieldPair(name: $0.key, value: String($0.value.prefix(2000))) }))
    }
}

struct ConfirmBody: Sendable {
    var verb: String
    var summary: String
    var noticeClass: String
    var buttonText: String
    var buttonClass: String
    var references: [String]
    var hasReferences: Bool
    var shown: [String]
    var hiddenCount: String?
    var more: Bool
    var count: String
    var bulkLimit: String
    var filterFields: [FieldPair]
    var backLink: String

    init(action: DeadLetterActions.Action, references: [String], more: Bool, byFilter: Bool, form: DeadLetterFilterForm, bulkLimit: Int) {
        verb = action.rawValue
        let n = Formatting.count(references.count)
        let what = byFilter ? "matching this filter now" : "selected"
        summary = action == .replay
            ? "Replay \(n) dead letter\(references.count == 1 ? "" : "s") \(what)? Each goes back onto its queue with its attempts reset."
            : "Purge \(n) dead letter\(references.count == 1 ? "" : "s") \(what)? They are deleted for good."
        noticeClass = action == .replay ? "warn" : "bad"
        buttonText = action == .replay ? "Replay \(n)" : "Purge \(n) for good"
        buttonClass = action == .replay ? "primary" : "danger solid"
        self.references = references
        hasReferences = !references.isEmpty
        shown = Array(references.prefix(100))
        hiddenCount = references.count > 100 ? Formatting.count(references.count - 100) : nil
        self.more = more
        count = n
        self.bulkLimit = Formatting.count(bulkLimit)
        filterFields = form.hiddenFields
        backLink = form.listLink
    }
}

struct ResultBody: Sendable {
    struct Row: Sendable { var queue: String; var done: String; var skipped: String }
    var summary: String
    var noticeClass: String
    var rows: [Row]
    var backLink: String

    init(_ report: DeadLetterActions.Report, backLink: String) {
        let verb = report.action == .replay ? "Replayed" : "Purged"
        var text = "\(verb) \(Formatting.count(report.done)) of \(Formatting.count(report.requested)); skipped \(Formatting.count(report.skipped)) (already gone or nothing to replay)."
        if report.notAttempted > 0 { text += " \(Formatting.count(report.notAttempted)) not attempted: over the per-request limit; submit again for the rest." }
        summary = text
        noticeClass = report.skipped == 0 && report.notAttempted == 0 ? "ok" : "warn"
        rows = report.perQueue.sorted { $0.key < $1.key }.map { Row(queue: $0.key, done: Formatting.count($0.value.done), skipped: Formatting.count($0.value.skipped)) }
        self.backLink = backLink
    }
}
