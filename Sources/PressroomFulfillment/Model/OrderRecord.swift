import Foundation

/// A write-ahead record of one vendor call: stored on the order before the
/// call is made, so a crash at any point leaves evidence of what may have
/// reached the vendor.
public struct SubmissionIntent: Codable, Sendable, Equatable {
    public var seq: Int
    public var vendor: String
    public var key: String
    /// The job attempt that made the call.
    public var attempt: Int
    /// `create` or `resume` (a lookup, or a re-send of the same key).
    public var operation: String
    /// ms since the epoch.
    public var at: Int64
    /// Until this time (ms) the call may still be running in its process:
    /// nobody else acts on the order before that.
    public var leaseUntil: Int64
    public var consumer: String

    public init(seq: Int, vendor: String, key: String, attempt: Int, operation: String, at: Int64, leaseUntil: Int64, consumer: String) {
        self.seq = seq
        self.vendor = vendor
        self.key = key
        self.attempt = attempt
        self.operation = operation
        self.at = at
        self.leaseUntil = leaseUntil
        self.consumer = consumer
    }
}

/// What came of an intent.
public struct SubmissionResult: Codable, Sendable, Equatable {
    public enum Outcome: String, Codable, Sendable {
        /// The vendor has the order (created, replayed or adopted).
        case accepted
        /// Provably never reached the vendor: the order may go elsewhere.
        case notSent = "not_sent"
        /// The vendor answered a definite no (validation, auth).
        case rejected
        /// Unknown whether the vendor has it (timeout, dropped connection, 5xx,
        /// 409): the order stays with this vendor until that is resolved.
        case ambiguous
    }
    public var seq: Int
    public var outcome: Outcome
    public var at: Int64
    public var vendorOrderID: String?
    public var httpStatus: Int?
    /// Redacted: no secrets, no personal data.
    public var detail: String
    public var durationMs: Int64

    public init(seq: Int, outcome: Outcome, at: Int64, vendorOrderID: String? = nil, httpStatus: Int? = nil, detail: String, durationMs: Int64) {
        self.seq = seq
        self.outcome = outcome
        self.at = at
        self.vendorOrderID = vendorOrderID
        self.httpStatus = httpStatus
        self.detail = detail
        self.durationMs = durationMs
    }
}

/// The routing decision, recorded on the order.
public struct RoutingDecision: Codable, Sendable, Equatable {
    public struct Candidate: Codable, Sendable, Equatable {
        public var vendor: String
        public var priority: Int?
        public var cost: Double?
        /// Why it was or was not chosen (`open breaker`, `no SKU for poster-a2`…).
        public var verdict: String
    }
    public var vendor: String
    /// For people: "printlab-eu: open breaker; chose printlab-us, priority 2".
    public var reason: String
    public var candidates: [Candidate]
    public var at: Int64
}

/// An order record as read from Redis.
public struct OrderRecord: Sendable {
    public var id: String
    public var state: OrderState
    public var version: Int
    public var createdAt: Int64
    public var updatedAt: Int64
    /// ms since the epoch at which each state was entered.
    public var stateTimes: [OrderState: Int64]
    public var vendor: String?
    public var vendorOrderID: String?
    /// Decoded on access, like ``order`` and ``assets``: the submission path
    /// reads a record several times per ticket and needs them once at most.
    public var route: RoutingDecision? { Self.decode("route", RoutingDecision.self, from: fields) }
    public var intents: [SubmissionIntent]
    public var results: [SubmissionResult]
    /// The seq of the intent without a definite result, if any.
    public var pendingIntent: Int?
    public var shipment: VendorOrder.Shipment?
    public var failureReason: String?
    public var ignoredTransitions: Int
    /// SHA-256 of the order payload it was created with.
    public var payloadDigest: String?
    public var order: FulfillmentOrder? { Self.decode("payload", FulfillmentOrder.self, from: fields) }
    public var assets: [Asset]? { knownAssets ?? Self.decode("assets", [Asset].self, from: fields) }
    /// The assets a record built by ``init(creating:id:now:assets:)`` was made from (not decoded again).
    private var knownAssets: [Asset]?
    /// Every field, for tools (`pressroom order show --json`).
    public var fields: [String: String]
    public var timeline: [[String: String]]

    public var pending: SubmissionIntent? {
        pendingIntent.flatMap { seq in intents.first { $0.seq == seq } }
    }

    public init(fields: [String: String], timeline: [[String: String]]) {
        self.fields = fields
        self.timeline = timeline
        let decoder = JSONDecoder()
        func json<T: Decodable>(_ key: String, _ type: T.Type) -> T? {
            fields[key].flatMap { try? decoder.decode(T.self, from: Data($0.utf8)) }
        }
        id = fields["id"] ?? ""
        state = OrderState(fields["state"] ?? "")
        version = Int(fields["version"] ?? "") ?? 0
        createdAt = Int64(fields["created_at"] ?? "") ?? 0
        updatedAt = Int64(fields["updated_at"] ?? "") ?? 0
        var times: [OrderState: Int64] = [:]
        for (key, value) in fields where key.hasPrefix("state_at:") {
            times[OrderState(String(key.dropFirst("state_at:".count)))] = Int64(value)
        }
        stateTimes = times
        vendor = fields["vendor"]
        vendorOrderID = fields["vendor_order_id"]
        let count = Int(fields["intent_seq"] ?? "") ?? 0
        intents = count > 0 ? (1...count).compactMap { json("intent:\($0)", SubmissionIntent.self) } : []
        results = count > 0 ? (1...count).compactMap { json("result:\($0)", SubmissionResult.self) } : []
        pendingIntent = fields["pending_intent"].flatMap { Int($0) }
        if fields["carrier"] != nil || fields["tracking_number"] != nil || fields["tracking_url"] != nil {
            shipment = VendorOrder.Shipment(carrier: fields["carrier"], trackingNumber: fields["tracking_number"], trackingURL: fields["tracking_url"])
        }
        failureReason = fields["failure_reason"]
        ignoredTransitions = Int(fields["ignored_transitions"] ?? "") ?? 0
        payloadDigest = fields["payload_sha256"]
    }

    /// The record `create` (an `.create` transition) writes at `now`: what a
    /// read right after it would return, without that read.
    init(creating create: OrderTransition, id: String, now: Int64, assets: [Asset]? = nil) {
        var fields = ["id": id, "state": (create.target ?? .received).rawValue, "version": "1", "created_at": String(now),
                      "updated_at": String(now), "state_at:" + (create.target ?? .received).rawValue: String(now)]
        for (key, value) in create.set { fields[key] = value }
        self.init(fields: fields, timeline: [])
        knownAssets = assets
    }

    static func decode<T: Decodable>(_ key: String, _ type: T.Type, from fields: [String: String]) -> T? {
        fields[key].flatMap { try? JSONDecoder().decode(T.self, from: Data($0.utf8)) }
    }
}
