/// One compare-and-set change of an order record, applied atomically by
/// ``OrderStore/apply(_:to:)`` (the `order-transitions` script). The order
/// workflow (issue 10) uses the same type: `job` enqueues its fan-in job in
/// the same script, `timeline` adds per-line render entries.
public struct OrderTransition: Sendable {
    public enum Expected: Sendable, Equatable {
        /// Create the record in `target`; an existing record is left as it is.
        case create
        /// Whatever state the table allows.
        case any
        /// Only from one of these states, else `conflict`.
        case states([OrderState])
    }

    /// `nil` changes fields only (no event).
    public var target: OrderState?
    public var expected: Expected
    /// Only if the record is at this version, else `conflict`.
    public var expectedVersion: Int?
    public var set: [(String, String)]
    public var delete: [String]
    /// Entries of the refs hash (vendor ids → order id).
    public var refs: [(String, String)]
    /// Extra fields on the `order.<state>` event.
    public var eventFields: [(String, String)]
    /// One timeline entry (stored as JSON).
    public var timeline: [String: String]?
    /// A job entry (wire-format fields) XADDed to the fulfil queue's stream.
    public var job: [(String, String)]?
    /// Allows a move to a lower rank or out of a terminal state (a `failed`
    /// order re-opened by the replay of the line that failed it). Honoured
    /// only with `.states` expected, so it is always a deliberate CAS.
    public var reopen: Bool = false

    public init(target: OrderState?, expected: Expected = .any, expectedVersion: Int? = nil, set: [(String, String)] = [],
                delete: [String] = [], refs: [(String, String)] = [], eventFields: [(String, String)] = [],
                timeline: [String: String]? = nil, job: [(String, String)]? = nil) {
        self.target = target
        self.expected = expected
        self.expectedVersion = expectedVersion
        self.set = set
        self.delete = delete
        self.refs = refs
        self.eventFields = eventFields
        self.timeline = timeline
        self.job = job
    }
}

/// What the script did.
public struct TransitionOutcome: Sendable, Equatable {
    public enum Status: String, Sendable {
        case created, exists, applied, same, stale, conflict, missing
    }
    public var status: Status
    public var state: OrderState
    public var version: Int
    public var createdAt: Int64
    public var previous: OrderState?
}
