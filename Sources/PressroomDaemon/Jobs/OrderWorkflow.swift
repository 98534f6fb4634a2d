import Foundation
import Logging
import Metrics
import PressroomFulfillment
import PressroomImaging
import PressroomQueue

/// The order workflow's steps on the order record (docs/orders.md): record a
/// paid order, fan out one render per line, fan in the verified masters, fail
/// and re-open on a line, settle the cost.
///
/// The render queue and the order record live in different hash slots, so
/// nothing here spans them in one script. Every step is idempotent instead:
/// render job ids are derived from order and line (the render queue's job-id
/// idempotency dedupes a redelivered `order` job), and every change of the
/// record is a compare-and-set on its version in the fulfil queue's slot. The
/// transition that records the last master also moves the order to
/// `masters_ready` and XADDs its one `fulfill` job, in the same script: two
/// renders finishing at once both read version v, one wins, the other is
/// refused, re-reads, and finds itself not last, or already done.
struct OrderWorkflow: Sendable {
    let store: OrderStore
    /// The render queue: where the fan-out goes.
    let renderQueue: QueuePartitions
    let ledger: UploadLedger?

    /// One line's verified master, as the fan-in records it (`line:<n>:master`).
    struct Master: Codable, Sendable, Equatable {
        var key: String
        /// Lower-case hex, the store's own checksum when it has one.
        var sha256: String?
        var bytes: Int64
    }

    static func renderJobID(order: String, line: Int) -> String { "{\(order)}:line:\(line)" }
    static func fulfilJobID(order: String) -> String { "{\(order)}:fulfill" }
    static func masterField(_ line: Int) -> String { "line:\(line):master" }
    static func failedField(_ line: Int) -> String { "line:\(line):failed" }
    /// Where a `failed` order failed: `render` (re-openable by a replay of that line) or the vendor.
    static let failureStage = "failure_stage"
    static let failureLine = "failure_line"

    // MARK: record and fan out

    /// Creates the record in `paid`, or matches a redelivery. Another order
    /// under the same id is a permanent error naming the conflict.
    func record(_ order: ShopOrder) async throws -> OrderRecord {
        let (payload, digest) = try order.canonical()
        let country = order.recipient.address.countryCode
        let outcome = try await store.apply(OrderTransition(
            target: .paid, expected: .create,
            set: [(Fulfillment.workflowField, "1"), ("order_payload", payload), ("order_sha256", digest), ("reference", order.reference),
                  ("country", country), ("items", String(order.lines.count)), ("lines", String(order.lines.count))],
            eventFields: [("reference", order.reference), ("lines", String(order.lines.count))],
            timeline: ["state": OrderState.paid.rawValue, "detail": "\(order.lines.count) line(s) to \(country)"]), to: order.orderId)
        guard let record = try await store.read(order.orderId) else { throw JobError.transient("order \(order.orderId) vanished while being recorded") }
        if outcome.status == .exists {
            guard let stored = record.fields["order_sha256"] else {
                throw JobError.permanent("orderId: order \(order.orderId) already exists as a fulfil order (not from an order job); use a new order id")
            }
            guard stored == digest else {
                throw JobError.permanent("orderId: order \(order.orderId) already exists with a different payload (a shop bug: one order id, two orders)")
            }
        }
        return record
    }

    /// What a render job of the workflow carries besides the render fields.
    private struct RenderPayload: Encodable {
        var source: String
        var policy: String
        var crop: CropRect?
        var order: String
        var line: Int
        var shop: String?
        var customer: String?
    }

    /// Moves `paid` → `rendering` and enqueues the renders of the lines that
    /// have no master yet. Safe to repeat: the render job ids are deterministic.
    func fanOut(_ order: ShopOrder, record first: OrderRecord) async throws -> (state: OrderState, enqueued: [String]) {
        var record = first
        if record.state == .paid {
            _ = try await store.apply(OrderTransition(
                target: .rendering, expected: .states([.paid]),
                timeline: ["state": OrderState.rendering.rawValue, "detail": "\(order.lines.count) render job(s)"]), to: order.orderId)
            guard let fresh = try await store.read(order.orderId) else { throw JobError.transient("order \(order.orderId) vanished") }
            record = fresh
        }
        guard record.state == .rendering else { return (record.state, []) }
        var enqueued: [String] = []
        for (index, line) in order.lines.enumerated() where record.fields[Self.masterField(index)] == nil {
            let id = Self.renderJobID(order: order.orderId, line: index)
            let payload = RenderPayload(source: line.source, policy: line.product, crop: line.crop, order: order.orderId, line: index,
                                        shop: order.shop, customer: order.customer)
            let json = String(decoding: try JSONEncoder.sorted.encode(payload), as: UTF8.self)
            do {
                _ = try await QueueAdmin.enqueue(partitions: renderQueue, client: store.client, id: id, type: RenderJob.type, payload: json)
            } catch {
                throw JobFailure.classify(error, while: "enqueueing render \(id)")
            }
            enqueued.append(id)
        }
        return (record.state, enqueued)
    }

    // MARK: fan in

    /// Records line `line`'s master. The last one moves the order to
    /// `masters_ready` and enqueues its `fulfill` job in the same script. A
    /// `failed` order whose failure was this line re-opens (to `rendering`, or
    /// straight to `masters_ready` when every other line is done); an order
    /// that reached a vendor never does. Returns what happened.
    @discardableResult
    func masterReady(order id: String, line: Int, master: Master, startedAt: Int64, finishedAt: Int64) async throws -> String {
        let masterJSON = String(decoding: try JSONEncoder.sorted.encode(master), as: UTF8.self)
        let field = Self.masterField(line)
        for _ in 0..<64 {
            guard let record = try await store.read(id) else {
                throw JobError.transient("order \(id) has no record; its render for line \(line) waits for it")
            }
            let lines = Int(record.fields["lines"] ?? "") ?? 0
            guard (0..<lines).contains(line) else { throw JobError.permanent("line \(line): order \(id) has \(lines) line(s)") }
            if record.fields[field] != nil && record.fields[Self.failedField(line)] == nil { return "already recorded" }
            let done = (0..<lines).filter { $0 != line && record.fields[Self.masterField($0)] != nil }.count
            let last = done == lines - 1
            var timeline = ["step": "render", "line": String(line), "master": master.key, "started": String(startedAt),
                            "at": String(finishedAt), "duration_ms": String(max(0, finishedAt - startedAt))]
            var t: OrderTransition
            var what: String
            switch record.state {
            case .paid, .rendering:
                t = OrderTransition(target: last ? .mastersReady : nil, expected: .states([.paid, .rendering]), expectedVersion: record.version,
                                    set: [(field, masterJSON)])
                what = last ? "masters ready; fulfill enqueued" : "master recorded (\(done + 1)/\(lines))"
            case .failed where record.fields[Self.failureStage] == "render":
                let stillFailed = (0..<lines).first { $0 != line && record.fields[Self.failedField($0)] != nil }
                if let other = stillFailed {
                    t = OrderTransition(target: nil, expected: .states([.failed]), expectedVersion: record.version,
                                        set: [(field, masterJSON), (Self.failureLine, String(other)),
                                              ("failure_reason", "line \(other): \(record.fields[Self.failedField(other)] ?? "failed")")],
                                        delete: [Self.failedField(line)])
                    what = "master recorded; the order stays failed on line \(other)"
                } else {
                    t = OrderTransition(target: last ? .mastersReady : .rendering, expected: .states([.failed]), expectedVersion: record.version,
                                        set: [(field, masterJSON)], delete: [Self.failedField(line), "failure_reason", Self.failureLine, Self.failureStage],
                                        eventFields: [("line", String(line)), ("reopened", "true")])
                    t.reopen = true
                    timeline["detail"] = "re-opened: line \(line) rendered after its failure"
                    what = last ? "re-opened; masters ready; fulfill enqueued" : "re-opened; rendering"
                }
            default:
                // Past masters_ready, or failed at the vendor: the order went on without this render.
                guard record.fields[field] == nil else { return "already recorded" }
                t = OrderTransition(target: nil, expected: .states([record.state]), expectedVersion: record.version, set: [(field, masterJSON)])
                what = "master recorded; order is \(record.state)"
            }
            if last, t.target == .mastersReady {
                let fulfil = try fulfilPayload(record, line: line, master: master.key)
                t.set += [("payload", fulfil.json), ("payload_sha256", Fulfillment.digest(fulfil.order))]
                t.job = WireFormat.fields(id: Self.fulfilJobID(order: id), type: FulfillJob.type, payload: fulfil.json)
                t.eventFields.append(("fulfill_job", Self.fulfilJobID(order: id)))
            }
            if let target = t.target { timeline["state"] = target.rawValue }
            t.timeline = timeline
            let outcome = try await store.apply(t, to: id)
            switch outcome.status {
            case .applied, .same: return what
            case .conflict: continue
            case .missing: throw JobError.transient("order \(id) vanished")
            default: continue
            }
        }
        throw JobError.transient("order \(id): gave up recording line \(line) after repeated concurrent changes")
    }

    /// The `fulfill` payload from the record: the stored order with every line's master.
    func fulfilPayload(_ record: OrderRecord, line: Int, master: String) throws -> (order: FulfillmentOrder, json: String) {
        guard let stored = record.fields["order_payload"],
              let order = try? JSONDecoder().decode(ShopOrder.self, from: Data(stored.utf8)) else {
            throw JobError.permanent("order \(record.id) has no stored order payload")
        }
        var masters: [String] = []
        for index in order.lines.indices {
            if index == line { masters.append(master); continue }
            guard let text = record.fields[Self.masterField(index)],
                  let recorded = try? JSONDecoder().decode(Master.self, from: Data(text.utf8)) else {
                throw JobError.transient("order \(record.id): line \(index) has no master yet")
            }
            masters.append(recorded.key)
        }
        let fulfil = order.fulfillment(masters: masters)
        return (fulfil, String(decoding: try JSONEncoder.sorted.encode(fulfil), as: UTF8.self))
    }

    // MARK: failure

    /// A line failed for good: the order moves to `failed` naming the line
    /// and the reason (an `order.failed` event on the fulfil events stream).
    /// Further failed lines of a failed order are recorded beside it.
    func lineFailed(order id: String, line: Int, reason: String) async throws {
        let field = Self.failedField(line)
        for _ in 0..<64 {
            guard let record = try await store.read(id) else { return }
            let t: OrderTransition
            switch record.state {
            case .paid where record.fields[Self.masterField(line)] != nil, .rendering where record.fields[Self.masterField(line)] != nil:
                return  // a late dead letter of a render whose master is recorded (a poison redelivery)
            case .paid, .rendering:
                let why = "line \(line): \(reason)"
                t = OrderTransition(target: .failed, expected: .states([.paid, .rendering]), expectedVersion: record.version,
                                    set: [(field, reason), ("failure_reason", why), (Self.failureLine, String(line)), (Self.failureStage, "render")],
                                    eventFields: [("line", String(line)), ("reason", why)],
                                    timeline: ["state": OrderState.failed.rawValue, "line": String(line), "detail": reason])
            case .failed where record.fields[Self.failureStage] == "render":
                guard record.fields[field] == nil else { return }
                t = OrderTransition(target: nil, expected: .states([.failed]), expectedVersion: record.version, set: [(field, reason)],
                                    timeline: ["step": "render failed", "line": String(line), "detail": reason])
            default:
                return
            }
            let outcome = try await store.apply(t, to: id)
            if outcome.status == .applied || outcome.status == .same { return }
        }
        throw JobError.transient("order \(id): gave up recording line \(line)'s failure after repeated concurrent changes")
    }

    /// The order line a render job id names (`{<orderId>}:line:<n>`), if any.
    static func orderLine(renderJobID id: String) -> (order: String, line: Int)? {
        guard id.hasPrefix("{"), let close = id.firstIndex(of: "}") else { return nil }
        let rest = id[id.index(after: close)...]
        guard rest.hasPrefix(":line:"), let line = Int(rest.dropFirst(6)), line >= 0 else { return nil }
        let order = String(id[id.index(after: id.startIndex)..<close])
        return order.isEmpty ? nil : (order, line)
    }

    /// The line's failure reason from a render's dead-letter reason: without
    /// the `order <id> line <n>: ` the render handler already put in front.
    static func lineReason(deadReason reason: String, order: String, line: Int) -> String {
        let own = "order \(order) line \(line): "
        // "gave up after N attempts: order X line N: cause" keeps its count.
        if let range = reason.range(of: own) { return reason.replacingCharacters(in: range, with: "") }
        return reason
    }

    /// The engine dead-lettered a job (any reason: the handler's own failure,
    /// a timeout on the last attempt, an unknown type, poison): a render of an
    /// order line fails its order the way the handler's failure path does. A
    /// no-op when the handler already did; a crash before this runs is caught
    /// by ``failDeadLetteredRenders(olderThan:limit:logger:)``.
    func deadLettered(_ notice: DeadLetterNotice, logger: Logger) async {
        guard notice.type == RenderJob.type, notice.queue == renderQueue.queue,
              let (order, line) = Self.orderLine(renderJobID: notice.id) else { return }
        do {
            try await lineFailed(order: order, line: line, reason: Self.lineReason(deadReason: notice.reason, order: order, line: line))
        } catch {
            logger.warning("could not fail the order of a dead-lettered render; reconcile will", metadata: [
                "order_id": "\(order)", "line": "\(line)", "error": "\(error)"])
        }
    }

    /// The sweep behind ``deadLettered(_:logger:)`` (run by `reconcile`):
    /// orders in `rendering` for longer than `olderThan` whose line's render
    /// sits in the render queue's dead letters (a replay removes it from
    /// there) are failed naming that line. Returns what it failed.
    func failDeadLetteredRenders(olderThan: Duration, limit: Int) async throws -> [(order: String, line: Int, reason: String)] {
        let cutoff = OrderStore.nowMs() - olderThan.milliseconds
        let ids = try await store.orders(in: .rendering, enteredBefore: cutoff, limit: limit)
        guard !ids.isEmpty else { return [] }
        let wanted = Set(ids)
        // The latest dead letter of each line render of these orders.
        var dead: [String: String] = [:]
        let letters = DeadLetterAdmin(queues: [renderQueue], namespace: renderQueue.namespace, client: store.client)
        try await letters.forEachPage(.init(type: RenderJob.type)) { page in
            for letter in page {
                if let id = letter.jobID, let (order, _) = Self.orderLine(renderJobID: id), wanted.contains(order) { dead[id] = letter.reason }
            }
            return true
        }
        var failed: [(order: String, line: Int, reason: String)] = []
        for id in ids {
            guard let record = try await store.read(id), record.state == .rendering else { continue }
            let lines = Int(record.fields["lines"] ?? "") ?? 0
            for line in 0..<lines where record.fields[Self.masterField(line)] == nil {
                guard let reason = dead[Self.renderJobID(order: id, line: line)] else { continue }
                let why = Self.lineReason(deadReason: reason, order: id, line: line)
                try await lineFailed(order: id, line: line, reason: why)
                failed.append((id, line, why))
                break
            }
        }
        return failed
    }
}
