import Foundation
import Logging
import PressroomQueue

extension Fulfillment {
    /// What a `reconcile` job returns.
    public struct ReconcileReport: Codable, Sendable {
        public struct Entry: Codable, Sendable {
            public var orderId: String
            public var from: OrderState
            public var to: OrderState?
            public var note: String

            public init(orderId: String, from: OrderState, to: OrderState?, note: String) {
                self.orderId = orderId
                self.from = from
                self.to = to
                self.note = note
            }
        }
        public var checked = 0
        /// Moved forward to what the vendor reports.
        public var advanced = 0
        /// Dangling intents resolved (the vendor had the order, or took it now).
        public var resolved = 0
        public var unchanged = 0
        public var errors = 0
        public var orders: [Entry] = []
    }

    public static let reconciledStates: [OrderState] = [.submitting, .accepted, .inProduction]

    /// Looks up every order that has been in `states` for longer than
    /// `olderThan` at its vendor, and applies what the vendor says. A
    /// dangling intent is resolved the way a retry would (lookup, or same-key
    /// re-send), so it never creates a second order.
    public func reconcile(olderThan: Duration, states: [OrderState] = Fulfillment.reconciledStates, limit: Int, logger: Logger) async throws -> ReconcileReport {
        var report = ReconcileReport()
        let cutoff = Self.nowMs() - olderThan.milliseconds
        for state in states {
            for id in try await store.orders(in: state, enteredBefore: cutoff, limit: max(0, limit - report.checked)) {
                report.checked += 1
                guard let record = try await store.read(id) else { continue }
                do {
                    let entry = try await reconcile(record, logger: logger)
                    switch entry.note {
                    case _ where entry.note.hasPrefix("resolved"): report.resolved += 1
                    case _ where entry.to != nil && entry.to != record.state: report.advanced += 1
                    default: report.unchanged += 1
                    }
                    report.orders.append(entry)
                } catch let error as CancellationError {
                    throw error
                } catch {
                    report.errors += 1
                    let message = (error as? JobError)?.message ?? (error as? VendorCallError)?.description ?? "\(error)"
                    report.orders.append(.init(orderId: id, from: record.state, to: nil, note: "error: \(message)"))
                    logger.warning("reconcile: lookup failed", metadata: ["order_id": "\(id)", "error": "\(message)"])
                }
            }
        }
        logger.info("reconciled", metadata: ["checked": "\(report.checked)", "advanced": "\(report.advanced)", "resolved": "\(report.resolved)", "errors": "\(report.errors)"])
        return report
    }

    func reconcile(_ record: OrderRecord, logger: Logger) async throws -> ReconcileReport.Entry {
        let now = Self.nowMs()
        if let pending = record.pending {
            if pending.leaseUntil > now { return .init(orderId: record.id, from: record.state, to: nil, note: "submission in flight on \(pending.consumer)") }
            if let breaker = breakers[pending.vendor], case .rejected = try await breaker.acquire(now: now) {
                return .init(orderId: record.id, from: record.state, to: nil, note: "\(pending.vendor) unavailable (open breaker)")
            }
            switch try await submit(record, vendor: pending.vendor, resume: true, route: nil, attempt: 0, logger: logger) {
            case .done(let outcome):
                return .init(orderId: record.id, from: record.state, to: outcome.state, note: "resolved dangling intent at \(pending.vendor): \(outcome.how)")
            case .reread, .existed:  // .existed only follows a create, which reconcile never chains
                return .init(orderId: record.id, from: record.state, to: nil, note: "changed concurrently; next run looks again")
            }
        }
        guard let vendor = record.vendor, let vendorOrderID = record.vendorOrderID, let adapter = adapters[vendor] else {
            return .init(orderId: record.id, from: record.state, to: nil, note: "no vendor order yet; its fulfill job's retry submits it")
        }
        let key = IdempotencyKey.derive(orderID: record.id, vendor: vendor)
        guard let order = try await adapter.status(vendorOrderID: vendorOrderID, key: key, logger: logger) else {
            logger.error("vendor has no record of an accepted order", metadata: ["order_id": "\(record.id)", "vendor": "\(vendor)", "vendor_order_id": "\(vendorOrderID)"])
            return .init(orderId: record.id, from: record.state, to: nil, note: "\(vendor) does not know \(vendorOrderID): needs an operator")
        }
        let outcome = try await apply(order.orderState, shipment: order.shipment, to: record.id, vendor: vendor, source: "reconcile")
        return .init(orderId: record.id, from: record.state, to: outcome.state, note: outcome.status.rawValue)
    }

    /// Samples the per-state gauge and the breakers (every process does; dashboards take max).
    public func sampleGauges() async throws {
        for (state, count) in try await store.counts() { metrics.orders(state, count: count) }
        for (vendor, breaker) in breakers {
            metrics.breaker(vendor: vendor, state: try await breaker.snapshot().state)
        }
    }
}
