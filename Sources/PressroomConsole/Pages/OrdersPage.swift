import Foundation
import PressroomFulfillment

/// One order by its shop order id: record, lines, routing, vendor calls and
/// timeline. The recipient (name, address, contact) is never shown: only
/// the destination country; any timeline value equal to a personal value
/// is masked too.
struct OrdersBody: Sendable {
    struct StateCount: Sendable { var state: String; var count: String }
    struct Item: Sendable { var index: String, product: String, sku: String, quantity: String, master: String }
    struct Candidate: Sendable { var vendor: String, priority: String, cost: String, verdict: String }
    struct Call: Sendable {
        var seq: String, when: String, operation: String, vendor: String, attempt: String
        var outcome: String, outcomeClass: String, http: String, took: String, detail: String
    }
    struct Step: Sendable { var when: String, after: String, what: String, isState: Bool, stateClass: String, detail: String }

    struct Order: Sendable {
        var id: String, state: String, stateClass: String, version: String
        var reference: String?, shipping: String?, country: String?
        var created: String, updated: String
        var vendor: String?, vendorOrderID: String?, routing: String?, shipment: String?, failure: String?
        var items: [Item]; var hasItems: Bool
        var candidates: [Candidate]; var hasCandidates: Bool
        var calls: [Call]; var hasCalls: Bool
        var timeline: [Step]
    }

    var query: String
    var searched: Bool
    var order: Order?
    var stateCounts: [StateCount]
    var hasStateCounts: Bool

    static func stateClass(_ state: String) -> String {
        switch state {
        case "shipped", "accepted", "in_production": "ok"
        case "failed", "cancelled": "bad"
        default: "warn"
        }
    }

    static func load(_ source: ConsoleSource, id: String?) async throws -> OrdersBody {
        guard let queue = source.ordersQueue else {
            return OrdersBody(query: id ?? "", searched: false, order: nil, stateCounts: [], hasStateCounts: false)
        }
        let store = OrderStore(client: source.client, keys: OrderKeys(partitions: source.partitions(queue)), redisPatience: .seconds(5))
        let counts = try await store.counts().sorted { $0.key.rawValue < $1.key.rawValue }
            .map { StateCount(state: $0.key.rawValue.replacingOccurrences(of: "_", with: " "), count: Formatting.count($0.value)) }
        var body = OrdersBody(query: id ?? "", searched: id != nil, order: nil, stateCounts: counts, hasStateCounts: !counts.isEmpty)
        guard let id, let r = try await store.read(id) else { return body }
        let personal = Set(r.order?.recipient.personalValues ?? []).filter { !$0.isEmpty }
        func masked(_ text: String) -> String {
            personal.reduce(text) { $0.replacingOccurrences(of: $1, with: "•••") }
        }
        let items = (r.order?.items ?? []).enumerated().map { i, item in
            Item(index: String(i + 1), product: item.product, sku: item.sku ?? "—", quantity: String(item.quantity), master: item.master)
        }
        let candidates = (r.route?.candidates ?? []).map {
            Candidate(vendor: $0.vendor, priority: $0.priority.map(String.init) ?? "—", cost: $0.cost.map { String(format: "%.2f", $0) } ?? "—",
                      verdict: $0.verdict)
        }
        let calls = r.intents.map { intent -> Call in
            let result = r.results.first { $0.seq == intent.seq }
            let outcome = result?.outcome.rawValue ?? (r.pendingIntent == intent.seq ? "unresolved" : "no result")
            let cls = result?.outcome == .accepted ? "ok" : result?.outcome == .rejected ? "bad" : "warn"
            return Call(seq: String(intent.seq), when: Formatting.time(ms: intent.at), operation: intent.operation, vendor: intent.vendor,
                        attempt: String(intent.attempt), outcome: outcome.replacingOccurrences(of: "_", with: " "), outcomeClass: cls,
                        http: result?.httpStatus.map(String.init) ?? "—",
                        took: result.map { Formatting.duration(seconds: Double($0.durationMs) / 1000) } ?? "—",
                        detail: masked(result?.detail ?? ""))
        }
        var previous = r.createdAt
        let steps = r.timeline.map { entry -> Step in
            let at = Int64(entry["at"] ?? "") ?? previous
            defer { previous = at }
            let state = entry["state"]
            let extras = entry.filter { !["at", "state", "step"].contains($0.key) }.sorted { $0.key < $1.key }
                .map { "\($0.key)=\(masked($0.value))" }.joined(separator: " ")
            return Step(when: Formatting.time(ms: at), after: "+" + Formatting.duration(seconds: Double(max(0, at - previous)) / 1000),
                        what: (state ?? entry["step"] ?? "?").replacingOccurrences(of: "_", with: " "), isState: state != nil,
                        stateClass: state.map(stateClass) ?? "plain", detail: String(extras.prefix(2000)))
        }
        let shipment = r.shipment.map { [$0.carrier, $0.trackingNumber, $0.trackingURL].compactMap { $0 }.joined(separator: " · ") }
        body.order = Order(
            id: r.id, state: r.state.rawValue.replacingOccurrences(of: "_", with: " "), stateClass: stateClass(r.state.rawValue), version: String(r.version),
            reference: r.order?.reference, shipping: r.order?.shipping.rawValue, country: r.order?.recipient.address.countryCode,
            created: Formatting.time(ms: r.createdAt), updated: Formatting.time(ms: r.updatedAt),
            vendor: r.vendor, vendorOrderID: r.vendorOrderID, routing: r.route.map { masked($0.reason) }, shipment: shipment,
            failure: r.failureReason.map(masked), items: items, hasItems: !items.isEmpty, candidates: candidates, hasCandidates: !candidates.isEmpty,
            calls: calls, hasCalls: !calls.isEmpty, timeline: steps)
        return body
    }
}
