/// Where an order is. The raw value is what Redis and the events carry.
///
/// A struct, not an enum, so the order workflow (issue 10) can add states
/// (paid, rendering, masters ready) with ranks between these.
public struct OrderState: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }

    public static let received = OrderState("received")
    public static let routed = OrderState("routed")
    public static let submitting = OrderState("submitting")
    public static let accepted = OrderState("accepted")
    public static let inProduction = OrderState("in_production")
    public static let shipped = OrderState("shipped")
    public static let failed = OrderState("failed")
    public static let cancelled = OrderState("cancelled")

    public var description: String { rawValue }

    public init(from decoder: Decoder) throws { rawValue = try decoder.singleValueContainer().decode(String.self) }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
}

/// The table the transition script enforces: a transition moves to a higher
/// rank only, and never out of a terminal state. Replaying the current state
/// is a no-op; a lower rank is ignored and counted ("stale").
public struct OrderStateMachine: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var state: OrderState
        public var rank: Int
        public var terminal: Bool

        public init(_ state: OrderState, rank: Int, terminal: Bool = false) {
            self.state = state
            self.rank = rank
            self.terminal = terminal
        }
    }

    public let entries: [Entry]

    public init(entries: [Entry]) {
        self.entries = entries.sorted { $0.rank < $1.rank }
    }

    /// Ranks leave gaps so workflows can slot states in between.
    public static let standard = OrderStateMachine(entries: [
        Entry(.received, rank: 10),
        Entry(.routed, rank: 50),
        Entry(.submitting, rank: 60),
        Entry(.accepted, rank: 70),
        Entry(.inProduction, rank: 80),
        Entry(.shipped, rank: 90, terminal: true),
        Entry(.failed, rank: 100, terminal: true),
        Entry(.cancelled, rank: 101, terminal: true),
    ])

    public var states: [OrderState] { entries.map(\.state) }

    public func entry(_ state: OrderState) -> Entry? { entries.first { $0.state == state } }

    /// A copy with extra states (issue 10's workflow states).
    public func adding(_ extra: [Entry]) -> OrderStateMachine {
        OrderStateMachine(entries: entries + extra.filter { e in !entries.contains { $0.state == e.state } })
    }
}
