import Foundation
import PressroomQueue

/// Picks the vendor for an order: among those that print every item's
/// product and ship to the destination, the preferred one if healthy, else by
/// priority, then cost (then name, so ties are stable), skipping vendors
/// whose breaker is open.
public struct Router: Sendable {
    public let vendors: [String: VendorConfiguration]

    public init(vendors: [String: VendorConfiguration]) {
        self.vendors = vendors
    }

    public struct Choice: Sendable {
        public var decision: RoutingDecision
        public var admission: CircuitBreaker.Admission
    }

    /// Vendors able to take the order, best first, ignoring health. Throws a
    /// permanent error naming the field when none is.
    public func candidates(for order: FulfillmentOrder) throws -> [(name: String, terms: VendorConfiguration.Country)] {
        let country = order.recipient.address.countryCode
        let shipping = vendors.filter { $0.value.countries[country] != nil }
        guard !shipping.isEmpty else {
            throw JobError.permanent("recipient.address.countryCode: no configured vendor ships to '\(country)'")
        }
        var covering = shipping
        for (index, item) in order.items.enumerated() {
            covering = covering.filter { $0.value.products[item.product] != nil }
            if covering.isEmpty {
                throw JobError.permanent("items[\(index)].product: no vendor that ships to \(country) prints '\(item.product)' (together with the order's other items)")
            }
        }
        var ranked = covering.map { (name: $0.key, terms: $0.value.countries[country]!) }
        ranked.sort { a, b in
            if a.terms.priority != b.terms.priority { return a.terms.priority < b.terms.priority }
            let ca = a.terms.cost ?? .infinity, cb = b.terms.cost ?? .infinity
            if ca != cb { return ca < cb }
            return a.name < b.name
        }
        if let preferred = order.preferredVendor, let index = ranked.firstIndex(where: { $0.name == preferred }) {
            ranked.insert(ranked.remove(at: index), at: 0)
        }
        return ranked
    }

    /// The best healthy candidate, with the reason; `nil` decision vendor when
    /// every candidate is unavailable (then `retryAfter` says when to try again).
    public func route(_ order: FulfillmentOrder, excluded: [String: String] = [:], breakers: [String: CircuitBreaker],
                      now: Int64) async throws -> (choice: Choice?, skipped: [RoutingDecision.Candidate], retryAfter: Duration?) {
        let ranked = try candidates(for: order)
        var skipped: [RoutingDecision.Candidate] = []
        var soonest: Duration?
        if let preferred = order.preferredVendor, ranked.first?.name != preferred {
            skipped.append(.init(vendor: preferred, priority: nil, cost: nil, verdict: vendors[preferred] == nil ? "preferred but not configured" : "preferred but does not cover the order"))
        }
        for candidate in ranked {
            if let why = excluded[candidate.name] {
                skipped.append(.init(vendor: candidate.name, priority: candidate.terms.priority, cost: candidate.terms.cost, verdict: why))
                continue
            }
            let admission = try await breakers[candidate.name]?.acquire(now: now) ?? .allowed
            if case .rejected(let wait) = admission {
                soonest = min(soonest ?? wait, wait)
                skipped.append(.init(vendor: candidate.name, priority: candidate.terms.priority, cost: candidate.terms.cost, verdict: "open breaker"))
                continue
            }
            var how = "priority \(candidate.terms.priority)"
            if let cost = candidate.terms.cost { how += ", cost \(cost)" }
            if candidate.name == order.preferredVendor { how = "preferred, " + how }
            if admission == .probe { how += ", breaker probe" }
            let reason = (skipped.map { "\($0.vendor): \($0.verdict)" } + ["chose \(candidate.name), \(how)"]).joined(separator: "; ")
            let chosen = RoutingDecision.Candidate(vendor: candidate.name, priority: candidate.terms.priority, cost: candidate.terms.cost, verdict: "chosen")
            let rest = ranked.drop { $0.name != candidate.name }.dropFirst().map {
                RoutingDecision.Candidate(vendor: $0.name, priority: $0.terms.priority, cost: $0.terms.cost, verdict: "not needed")
            }
            let decision = RoutingDecision(vendor: candidate.name, reason: reason, candidates: skipped + [chosen] + rest, at: now)
            return (Choice(decision: decision, admission: admission), skipped, nil)
        }
        return (nil, skipped, soonest)
    }
}
