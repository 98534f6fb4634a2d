import Crypto
import Foundation
import Logging
import PressroomHTTP
import PressroomQueue
import PressroomSupport

/// Hands print tickets to vendors exactly once and tracks orders until they
/// ship. One per process; the daemon's `fulfill`, `vendor-event` and
/// `reconcile` handlers call into it.
///
/// The exactly-once argument (docs/fulfillment.md has it step by step):
/// every vendor call is preceded by a write-ahead intent on the order record
/// (compare-and-set on the record's version), and followed by its result. An
/// intent without a definite result binds the order to that vendor: the next
/// attempt resumes there (lookup or same-key re-send, per adapter) and the
/// order is never sent to another vendor. It may move on only when the
/// vendor provably never saw it (breaker open before any intent, or the
/// request never left this process).
public struct Fulfillment: Sendable {
    public let store: OrderStore
    public let vendors: [String: VendorConfiguration]
    public let adapters: [String: any VendorAdapter]
    public let breakers: [String: CircuitBreaker]
    public let router: Router
    public let metrics: FulfillmentMetrics
    /// This process's consumer name, written on intents.
    public let consumer: String
    /// Test hook: runs right after a vendor's successful answer, before it is
    /// recorded (a test SIGKILLs the process here to hit that exact window).
    public var afterVendorAnswer: (@Sendable (String) -> Void)?

    public init(store: OrderStore, vendors: [String: VendorConfiguration], adapters: [String: any VendorAdapter],
                breakers: [String: CircuitBreaker], metrics: FulfillmentMetrics, consumer: String) {
        self.store = store
        self.vendors = vendors
        self.adapters = adapters
        self.breakers = breakers
        self.router = Router(vendors: vendors)
        self.metrics = metrics
        self.consumer = consumer
    }

    /// Builds the adapters, HTTP clients and breakers for `vendors`.
    /// `sandboxUpdates` queues the sandbox vendor's simulated webhooks.
    public static func make(vendors: [String: VendorConfiguration], client: RedisClient, keys: OrderKeys, metrics: FulfillmentMetrics,
                            consumer: String, eventsMaxLength: Int = 100_000, sandboxUpdates: SandboxAdapter.Deliver? = nil) throws -> Fulfillment {
        var adapters: [String: any VendorAdapter] = [:]
        var breakers: [String: CircuitBreaker] = [:]
        for (name, configuration) in vendors {
            adapters[name] = try makeAdapter(name: name, configuration: configuration, metrics: metrics, sandboxUpdates: sandboxUpdates)
            breakers[name] = CircuitBreaker(vendor: name, namespace: keys.queue.namespace, settings: configuration.breaker,
                                            requestTimeout: configuration.timeouts.request.duration, client: client)
        }
        let store = OrderStore(client: client, keys: keys, machine: .workflow, eventsMaxLength: eventsMaxLength)
        return Fulfillment(store: store, vendors: vendors, adapters: adapters, breakers: breakers, metrics: metrics, consumer: consumer)
    }

    public static func makeAdapter(name: String, configuration: VendorConfiguration, metrics: FulfillmentMetrics,
                                   sandboxUpdates: SandboxAdapter.Deliver? = nil) throws -> any VendorAdapter {
        let header = configuration.adapter == .gelato ? "X-API-KEY" : "X-API-Key"
        let http = try VendorHTTP(vendor: name, configuration: configuration, defaultAuthHeader: header, metrics: metrics)
        switch configuration.adapter {
        case .idempotencyKey: return IdempotencyKeyAdapter(name: name, http: http, configuration: configuration)
        case .prodigi: return ProdigiAdapter(name: name, http: http, configuration: configuration)
        case .printful: return PrintfulAdapter(name: name, http: http, configuration: configuration)
        case .gelato: return GelatoAdapter(name: name, http: http, configuration: configuration)
        case .sandbox: return SandboxAdapter(name: name, http: http, configuration: configuration, deliver: sandboxUpdates)
        }
    }

    /// What a `fulfill` job returns.
    public struct Outcome: Codable, Sendable, Equatable {
        public var orderId: String
        public var state: OrderState
        public var vendor: String?
        public var vendorOrderId: String?
        /// created, replayed, already existed, adopted, draft confirmed, or
        /// "already accepted" for a job that found the work done.
        public var how: String
        public var key: String?
    }

    static func nowMs() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    /// SHA-256 of the canonical JSON: what `payload_sha256` holds.
    public static func digest(_ order: FulfillmentOrder) -> String {
        digest(json: order.canonicalJSON)
    }

    /// The digest of a payload already in its canonical JSON (what the record stores).
    static func digest(json: String) -> String {
        SHA256.hash(data: Data(json.utf8)).hexString
    }

    // MARK: fulfill

    /// Validates, records and submits one order. `assets` resolves the items'
    /// masters (HEAD and presign); it is called once, before the first vendor
    /// call, and its result is stored so every re-send is byte-identical.
    ///
    /// `probablyNew` (the caller knows of no record: a shop's first attempt,
    /// not the order workflow's) skips the first read. The create at the head
    /// of the first script call is then what finds a record that exists after
    /// all, and stops the chain before anything is decided; the order is then
    /// taken up again from what is stored, as if it had been read first.
    public func fulfil(_ order: FulfillmentOrder, attempt: Int, probablyNew: Bool = false, logger: Logger,
                       assets: @Sendable () async throws -> [Asset]) async throws -> Outcome {
        let payload = order.canonicalJSON
        let digest = Self.digest(json: payload)
        var record = probablyNew ? nil : try await store.read(order.orderId, timeline: false)
        // A new order: its record is created in the same script call that routes it and
        // writes its first intent (``submit``), so until then `record` is what that create writes.
        var creating: OrderTransition?
        if record == nil {
            _ = try router.candidates(for: order)
            let resolved = try await assets()
            guard resolved.count == order.items.count else { throw JobError.permanent("asset resolution returned \(resolved.count) assets for \(order.items.count) items") }
            let create = OrderTransition(
                target: .received, expected: .create,
                set: [("payload", payload), ("payload_sha256", digest), ("assets", Asset.json(resolved)),
                      ("reference", order.reference), ("country", order.recipient.address.countryCode), ("items", String(order.items.count))],
                eventFields: [("reference", order.reference)],
                timeline: ["state": "received", "detail": "\(order.items.count) item(s) to \(order.recipient.address.countryCode)"])
            creating = create
            record = OrderRecord(creating: create, id: order.orderId, now: Self.nowMs(), assets: resolved)
        }
        guard var current = record else { throw JobError.transient("order \(order.orderId) vanished while being created") }
        if let stored = current.payloadDigest, stored != digest {
            throw JobError.permanent("orderId: order \(order.orderId) already exists with a different payload (a shop bug: one order id, two orders)")
        }
        if current.fields[Self.workflowField] != nil {
            current = try await adopt(current, order, assets: assets)
        }

        // The record holds this very payload (same digest): use the job's decoded copy.
        let known = current.payloadDigest == digest ? order : nil
        var excluded: [String: String] = [:]
        for _ in 0..<(vendors.count * 2 + 4) {
            if let done = try settled(current) { return done }
            let step: Step
            do {
                step = try await nextStep(current, order: known, excluded: excluded, logger: logger)
            } catch {
                // No vendor now (open breakers): the order is still received, and retried.
                if let create = creating { try await createAlone(create, order: order, logger: logger) }
                throw error
            }
            let chainedCreate = creating
            creating = nil
            switch try await submit(current, order: known, vendor: step.vendor, resume: step.resume, route: step.route, attempt: attempt,
                                    creating: chainedCreate, logger: logger) {
            case .done(let outcome):
                return outcome
            case .existed:
                // Created meanwhile, or before (`probablyNew` was wrong): start from the stored record,
                // whose payload digest and workflow marker are checked before anything else.
                return try await fulfil(order, attempt: attempt, logger: logger, assets: assets)
            case .reread(let reason):
                if let reason { excluded[step.vendor] = reason }
                guard let fresh = try await store.read(order.orderId, timeline: false) else { throw JobError.transient("order \(order.orderId) vanished") }
                current = fresh
            }
        }
        throw JobError.transient("order \(order.orderId): gave up this attempt after repeated concurrent changes")
    }

    /// Creates the record on its own (when no vendor can take the order yet).
    func createAlone(_ create: OrderTransition, order: FulfillmentOrder, logger: Logger) async throws {
        if try await store.apply(create, to: order.orderId).status == .created {
            logger.info("order received", metadata: ["order_id": "\(order.orderId)"])
        }
    }

    /// Marks records an `order` job created (the workflow, docs/orders.md).
    public static let workflowField = "workflow"

    /// A record the order workflow created: its fan-in enqueued this job with
    /// the masters' keys once they were all verified. The first attempt
    /// resolves and stores the assets (compare-and-set, so a racing duplicate
    /// stores them once); routing then goes from `masters_ready`.
    func adopt(_ record: OrderRecord, _ order: FulfillmentOrder, assets: @Sendable () async throws -> [Asset]) async throws -> OrderRecord {
        if record.state == .paid || record.state == .rendering {
            throw JobError.permanent("order \(record.id) is still rendering its masters; its order job enqueues fulfill itself when they are ready")
        }
        guard record.payloadDigest != nil else {
            throw JobError.permanent("orderId: order \(record.id) was recorded by an order job and has no fulfil payload yet")
        }
        guard record.state == .mastersReady, record.assets == nil else { return record }
        _ = try router.candidates(for: order)
        let resolved = try await assets()
        guard resolved.count == order.items.count else { throw JobError.permanent("asset resolution returned \(resolved.count) assets for \(order.items.count) items") }
        _ = try await store.apply(OrderTransition(target: nil, expected: .states([.mastersReady]), expectedVersion: record.version,
                                                  set: [("assets", Asset.json(resolved))]), to: record.id)
        guard let fresh = try await store.read(record.id, timeline: false) else { throw JobError.transient("order \(record.id) vanished") }
        return fresh
    }

    /// The outcome of an order that needs no more submitting, or nil.
    func settled(_ record: OrderRecord) throws -> Outcome? {
        switch record.state {
        case .accepted, .inProduction, .shipped:
            return Outcome(orderId: record.id, state: record.state, vendor: record.vendor, vendorOrderId: record.vendorOrderID,
                           how: "already accepted", key: record.vendor.map { IdempotencyKey.derive(orderID: record.id, vendor: $0) })
        case .failed:
            throw JobError.permanent("order \(record.id) failed earlier: \(record.failureReason ?? "no reason recorded")")
        case .cancelled:
            throw JobError.permanent("order \(record.id) was cancelled")
        default:
            return nil
        }
    }

    struct Step {
        var vendor: String
        var resume: Bool
        var route: RoutingDecision?
    }

    /// Where the next call goes: back to the vendor of an unresolved intent,
    /// or wherever routing says.
    func nextStep(_ record: OrderRecord, order known: FulfillmentOrder? = nil, excluded: [String: String], logger: Logger) async throws -> Step {
        let now = Self.nowMs()
        if let pending = record.pending {
            // No result yet: the call may still run in `pending.consumer` (unless that is us,
            // restarted). A result: the lease is the settle time a non-deduping vendor gets.
            let finished = record.results.contains { $0.seq == pending.seq }
            if pending.leaseUntil > now && (finished || pending.consumer != consumer) {
                throw JobError.transient("order \(record.id): " + (finished ? "giving \(pending.vendor) time to finish an earlier request before looking it up"
                                                                           : "\(pending.consumer) is submitting it to \(pending.vendor) right now"),
                                         retryAfter: .milliseconds(pending.leaseUntil - now + 100))
            }
            guard adapters[pending.vendor] != nil else {
                throw JobError.transient("order \(record.id) has an unresolved submission to \(pending.vendor), which is no longer configured; it is never sent elsewhere (see docs/fulfillment.md, operations)",
                                         retryAfter: .seconds(300))
            }
            if let breaker = breakers[pending.vendor], case .rejected(let wait) = try await breaker.acquire(now: now) {
                throw JobError.transient("order \(record.id): waiting for \(pending.vendor) (open breaker); an earlier request's outcome is unknown, so it is never sent elsewhere",
                                         retryAfter: wait)
            }
            return Step(vendor: pending.vendor, resume: true, route: nil)
        }
        guard let order = known ?? record.order else { throw JobError.permanent("order \(record.id) has no stored payload") }
        let routed = try await router.route(order, excluded: excluded, breakers: breakers, now: now)
        guard let choice = routed.choice else {
            let reason = routed.skipped.map { "\($0.vendor): \($0.verdict)" }.joined(separator: "; ")
            throw JobError.transient("order \(record.id): no vendor available (\(reason))", retryAfter: routed.retryAfter)
        }
        logger.info("routed", metadata: ["order_id": "\(record.id)", "vendor": "\(choice.decision.vendor)", "reason": "\(choice.decision.reason)"])
        return Step(vendor: choice.decision.vendor, resume: false, route: choice.decision)
    }

    enum StepResult {
        case done(Outcome)
        /// The record the chain was to create exists: take the order up from it.
        case existed
        /// Read the record again and decide anew; a reason excludes the vendor.
        case reread(String?)
    }

    func ticket(_ record: OrderRecord, order known: FulfillmentOrder? = nil, vendor: String) throws -> PrintTicket {
        guard let order = known ?? record.order, let assets = record.assets, assets.count == order.items.count else {
            throw JobError.permanent("order \(record.id) has no stored payload or assets")
        }
        guard let configuration = vendors[vendor] else { throw JobError.permanent("vendor \(vendor) is not configured") }
        var lines: [PrintTicket.Line] = []
        for (index, item) in order.items.enumerated() {
            guard let product = configuration.products[item.product] else {
                throw JobError.permanent("items[\(index)].product: \(vendor) has no SKU for '\(item.product)'")
            }
            lines.append(.init(item: item, product: product, asset: assets[index]))
        }
        return PrintTicket(order: order, lines: lines, key: IdempotencyKey.derive(orderID: record.id, vendor: vendor))
    }

    /// Records the intent, calls the vendor, records the result. `creating`
    /// (a new order, with `record` what it writes) goes first in the same
    /// chain as the routing and the intent: one script call, in which a record
    /// that someone else created meanwhile stops the chain before anything is
    /// decided for it.
    func submit(_ record: OrderRecord, order known: FulfillmentOrder? = nil, vendor: String, resume: Bool, route: RoutingDecision?, attempt: Int,
                creating: OrderTransition? = nil, logger: Logger) async throws -> StepResult {
        guard let adapter = adapters[vendor] else { throw JobError.permanent("vendor \(vendor) is not configured") }
        let ticket = try self.ticket(record, order: known, vendor: vendor)
        let now = Self.nowMs()
        let seq = (record.intents.map(\.seq).max() ?? 0) + 1
        let timeout = vendors[vendor]?.timeouts.request.duration ?? .seconds(30)
        let intent = SubmissionIntent(seq: seq, vendor: vendor, key: ticket.key, attempt: attempt, operation: resume ? "resume" : "create",
                                      at: now, leaseUntil: now + (timeout * 4 + .seconds(5)).milliseconds, consumer: consumer)
        var set: [(String, String)] = [("intent:\(seq)", intent.json), ("intent_seq", String(seq)), ("pending_intent", String(seq)), ("vendor", vendor)]
        // Each step expects the version the one before it leaves (every applied transition adds one).
        var chain: [OrderTransition] = creating.map { [$0] } ?? []
        var expected = record.version
        if let route {
            let routeFields = [("route", route.json), ("route_reason", route.reason)]
            if record.state == .received || record.state == .mastersReady {
                chain.append(OrderTransition(
                    target: .routed, expected: .states([record.state]), expectedVersion: expected,
                    set: routeFields + [("vendor", vendor)],
                    eventFields: [("vendor", vendor), ("reason", route.reason)],
                    timeline: ["state": "routed", "vendor": vendor, "detail": route.reason]))
                expected += 1
            } else {
                // Routed again (after a vendor that never received it): the intent records the new decision.
                set += routeFields
            }
        }
        var timeline = ["step": "intent", "seq": String(seq), "vendor": vendor, "key": ticket.key, "operation": intent.operation, "attempt": String(attempt)]
        if record.state != .submitting { timeline["state"] = OrderState.submitting.rawValue }
        chain.append(OrderTransition(
            target: record.state == .submitting ? nil : .submitting, expected: .any, expectedVersion: expected, set: set,
            eventFields: [("vendor", vendor), ("key", ticket.key)], timeline: timeline))
        let outcomes = try await store.apply(chain: chain, to: record.id, now: now)
        if creating != nil, let first = outcomes.first {
            if first.status == .exists { return .existed }
            if first.status == .created { logger.info("order received", metadata: ["order_id": "\(record.id)"]) }
        }
        guard outcomes.count == chain.count, outcomes.allSatisfy({ $0.status == .applied || $0.status == .created }) else { return .reread(nil) }

        let started = ContinuousClock.now
        let vendorOrder: VendorOrder
        do {
            vendorOrder = try await adapter.submit(ticket, resume: resume, logger: logger)
        } catch let error as VendorCallError {
            // Resuming an unresolved call: a request that never left says nothing about the earlier one.
            return try await failed(record, seq: seq, vendor: vendor, error: resume ? error.afterPossibleCreate : error, started: started, logger: logger)
        }
        afterVendorAnswer?(vendor)
        // A clean breaker (the usual case) has nothing to record: no call, and no child task for one.
        guard let breaker = breakers[vendor], breaker.hasFailuresToClear else {
            return .done(try await accepted(record.id, seq: seq, vendor: vendor, key: ticket.key, order: vendorOrder, started: started, logger: logger))
        }
        // Beside the result, not before it: both go to Redis in one batch.
        async let closed = try? breaker.recordSuccess()
        let outcome = try await accepted(record.id, seq: seq, vendor: vendor, key: ticket.key, order: vendorOrder, started: started, logger: logger)
        _ = await closed
        return .done(outcome)
    }

    func failed(_ record: OrderRecord, seq: Int, vendor: String, error: VendorCallError, started: ContinuousClock.Instant, logger: Logger) async throws -> StepResult {
        if error.isOutage {
            if (try? await breakers[vendor]?.recordFailure()) == true {
                logger.warning("vendor breaker opened", metadata: ["vendor": "\(vendor)", "error": "\(error.message)"])
            }
        } else {
            _ = try? await breakers[vendor]?.recordSuccess()
        }
        let result = SubmissionResult(seq: seq, outcome: error.outcome, at: Self.nowMs(), httpStatus: error.httpStatus, detail: error.message,
                                      durationMs: (ContinuousClock.now - started).milliseconds)
        let timeline = ["step": "result", "seq": String(seq), "vendor": vendor, "outcome": error.outcome.rawValue, "detail": error.message]
        switch error.outcome {
        case .notSent:
            _ = try await store.apply(OrderTransition(target: nil, set: [("result:\(seq)", result.json)], delete: ["pending_intent"],
                                                      timeline: timeline), to: record.id)
            logger.warning("vendor never received the order; routing again", metadata: ["order_id": "\(record.id)", "vendor": "\(vendor)", "error": "\(error.message)"])
            return .reread("never received it (\(error.kind.rawValue))")
        case .ambiguous:
            // The call is over. A vendor that dedupes may be asked again at once; for one
            // that does not (a create that timed out may still be running there), the
            // lease becomes a settle time of one request timeout before anyone looks it up.
            var set = [("result:\(seq)", result.json)]
            if var intent = try await store.read(record.id, timeline: false)?.intents.first(where: { $0.seq == seq }) {
                let unanswered = error.kind == .noAnswer  // an answer (409, 429, 5xx) means the vendor is done with it
                let settle = unanswered && adapters[vendor]?.createIsIdempotent == false ? (vendors[vendor]?.timeouts.request.duration ?? .zero).milliseconds : 0
                intent.leaseUntil = result.at + settle
                set.append(("intent:\(seq)", intent.json))
            }
            _ = try await store.apply(OrderTransition(target: nil, set: set, timeline: timeline), to: record.id)
            throw error.jobError
        case .rejected:
            let reason = "\(vendor) rejected the order: \(error.message)"
            _ = try await store.apply(OrderTransition(target: .failed, set: [("result:\(seq)", result.json), ("failure_reason", reason)],
                                                      delete: ["pending_intent"], eventFields: [("vendor", vendor), ("reason", reason)],
                                                      timeline: ["state": "failed", "seq": String(seq), "vendor": vendor, "detail": reason]), to: record.id)
            throw error.jobError
        case .accepted:
            throw error.jobError
        }
    }

    /// Records a vendor's order as the outcome of intent `seq`.
    func accepted(_ id: String, seq: Int, vendor: String, key: String, order: VendorOrder, started: ContinuousClock.Instant, logger: Logger) async throws -> Outcome {
        let now = Self.nowMs()
        let result = SubmissionResult(seq: seq, outcome: .accepted, at: now, vendorOrderID: order.id, detail: order.how,
                                      durationMs: (ContinuousClock.now - started).milliseconds)
        let outcome = try await store.apply(OrderTransition(
            target: .accepted, expected: .states([.received, .routed, .submitting]),
            set: [("result:\(seq)", result.json), ("vendor_order_id", order.id), ("vendor", vendor)],
            delete: ["pending_intent"],
            refs: [(OrderStore.ref(vendor: vendor, vendorOrderID: order.id), id), (OrderStore.ref(vendor: vendor, key: key), id)],
            eventFields: [("vendor", vendor), ("vendor_order_id", order.id), ("how", order.how)],
            timeline: ["state": "accepted", "seq": String(seq), "vendor": vendor, "vendor_order_id": order.id, "detail": order.how]), to: id)
        metrics.ticket(vendor: vendor, how: order.how)
        if outcome.status == .applied {
            metrics.accepted(vendor: vendor, afterMs: now - outcome.createdAt)
            logger.info("vendor accepted the order", metadata: ["order_id": "\(id)", "vendor": "\(vendor)", "vendor_order_id": "\(order.id)", "how": "\(order.how)"])
        }
        var state = outcome.state
        if order.orderState != .accepted {
            state = try await apply(order.orderState, shipment: order.shipment, to: id, vendor: vendor, source: "vendor status on \(order.how)").state
        }
        return Outcome(orderId: id, state: state, vendor: vendor, vendorOrderId: order.id, how: order.how, key: key)
    }

    // MARK: status updates

    /// Moves an order forward to what its vendor reports; never backwards.
    @discardableResult
    public func apply(_ state: OrderState, shipment: VendorOrder.Shipment?, to id: String, vendor: String, source: String) async throws -> TransitionOutcome {
        var set: [(String, String)] = []
        var eventFields: [(String, String)] = [("vendor", vendor), ("source", source)]
        if let shipment {
            for (field, value) in [("carrier", shipment.carrier), ("tracking_number", shipment.trackingNumber), ("tracking_url", shipment.trackingURL)] {
                if let value { set.append((field, value)); eventFields.append((field, value)) }
            }
        }
        if state == .failed { set.append(("failure_reason", "\(vendor) reported the order failed (\(source))")) }
        let outcome = try await store.apply(OrderTransition(target: state, set: set, eventFields: eventFields,
                                                            timeline: ["state": state.rawValue, "vendor": vendor, "detail": source]), to: id)
        if outcome.status == .stale { metrics.ignored(state: state) }
        return outcome
    }

    /// What a `vendor-event` job returns.
    public struct EventOutcome: Codable, Sendable {
        public var vendor: String
        public var orderId: String?
        public var event: String
        /// applied, same, stale (ignored, out of order), or ignored (an event we do not track).
        public var result: String
        public var state: OrderState?
    }

    /// Verifies a forwarded webhook and applies it.
    public func handleEvent(vendor: String, body: Data, headers: [String: String], query: [String: String], logger: Logger) async throws -> EventOutcome {
        guard let configuration = vendors[vendor], let adapter = adapters[vendor] else {
            throw JobError.permanent("vendor: '\(vendor)' is not configured (known: \(vendors.keys.sorted().joined(separator: ", ")))")
        }
        guard let webhooks = configuration.webhooks else {
            throw JobError.permanent("vendor \(vendor) has no webhooks section in vendors.yaml: refusing an unverifiable event")
        }
        try WebhookVerifier(vendor: vendor, settings: webhooks).verify(body: body, headers: headers, query: query)
        let event: VendorEvent?
        do {
            event = try adapter.event(from: body)
        } catch let error as VendorCallError {
            throw JobError.permanent("webhook from \(vendor): \(error.message)")
        }
        guard let event else { return EventOutcome(vendor: vendor, orderId: nil, event: "unknown", result: "ignored", state: nil) }
        guard let id = try await store.orderID(vendor: vendor, vendorOrderID: event.vendorOrderID, key: event.key) else {
            throw JobError.transient("webhook from \(vendor) names order \(event.vendorOrderID ?? event.key ?? "?"), which is not known (yet)", retryAfter: .seconds(10))
        }
        let outcome = try await apply(event.status == .draft ? .accepted : VendorOrder(id: "", status: event.status).orderState,
                                      shipment: event.shipment, to: id, vendor: vendor, source: "webhook \(event.kind)")
        if outcome.status == .stale {
            logger.info("out-of-order vendor event ignored", metadata: ["order_id": "\(id)", "state": "\(outcome.state)", "event": "\(event.kind)"])
        }
        return EventOutcome(vendor: vendor, orderId: id, event: event.kind, result: outcome.status.rawValue, state: outcome.state)
    }
}
