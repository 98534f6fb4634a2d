import Foundation

/// Everything one account owns. Tests isolate themselves by account, so
/// nothing here is shared between accounts.
struct AccountState: Sendable {
    /// A dedupe key, per dialect (an account may be used with several).
    struct KeyScope: Sendable, Hashable {
        var dialect: Dialect
        var key: String
    }

    /// The idempotency record of one key.
    struct KeyEntry: Sendable {
        /// Canonical bytes of the first body.
        var fingerprint: Data
        /// Set while the first request is still being handled (latency,
        /// downloads, a hold): another request with the key gets 409.
        var inFlight: Bool
        var orderID: String?
        var response: StoredResponse?
    }

    var spec: AccountSpec
    var faults: [Fault] = []
    /// OAuth tokens issued to this account and not yet revoked.
    var tokens: Set<String> = []
    var orders: [String: VendorOrder] = [:]
    /// Creation order, for the inspection API.
    var orderIDs: [String] = []
    var keys: [KeyScope: KeyEntry] = [:]
    /// Create requests seen per key (first, replays, conflicts, 409s).
    var createRequests: [KeyScope: Int] = [:]
    var requests: [Operation: Int] = [:]
    var statuses: [Int: Int] = [:]
    var faultsApplied: [Fault.Action: Int] = [:]
    /// Orders created per key (Gelato: per `orderReferenceId`).
    var ordersByKey: [String: Int] = [:]
    /// Orders created per customer-facing reference, whatever their key.
    var ordersByReference: [String: Int] = [:]

    init(spec: AccountSpec) {
        self.spec = spec
    }

    /// Takes the first queued fault for `operation` and uses up one of its requests.
    mutating func takeFault(for operation: Operation) -> Fault? {
        guard let index = faults.firstIndex(where: { $0.matches(operation) }) else { return nil }
        let fault = faults[index]
        faults[index].remaining -= 1
        if faults[index].remaining <= 0 { faults.remove(at: index) }
        faultsApplied[fault.action, default: 0] += 1
        return fault
    }

    var statsJSON: JSONValue {
        func counts<K>(_ dictionary: [K: Int], name: (K) -> String) -> JSONValue {
            .object(Dictionary(uniqueKeysWithValues: dictionary.map { (name($0.key), JSONValue.int($0.value)) }))
        }
        return [
            "ordersCreated": .int(orderIDs.count),
            "ordersByKey": counts(ordersByKey) { $0 },
            "duplicates": .int(ordersByKey.values.reduce(0) { $0 + max(0, $1 - 1) }),
            "ordersByReference": counts(ordersByReference) { $0 },
            "duplicateReferences": .int(ordersByReference.values.reduce(0) { $0 + max(0, $1 - 1) }),
            "requests": counts(requests) { $0.rawValue },
            "statuses": counts(statuses) { String($0) },
            "faultsApplied": counts(faultsApplied) { $0.rawValue },
            "pendingFaults": .int(faults.reduce(0) { $0 + $1.remaining }),
            "keysInFlight": .int(keys.values.filter(\.inFlight).count),
        ]
    }
}
