/// Whether a photo is good enough for a product.
public enum Verdict: String, Sendable, Codable, Comparable {
    case ok, warn, reject

    private var rank: Int {
        switch self {
        case .ok: 0
        case .warn: 1
        case .reject: 2
        }
    }

    public static func < (lhs: Verdict, rhs: Verdict) -> Bool { lhs.rank < rhs.rank }
}
