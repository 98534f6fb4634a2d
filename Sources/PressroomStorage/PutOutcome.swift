/// Result of a create-only write.
public enum PutOutcome: Sendable, Equatable {
    case created
    /// The same bytes were already stored (an earlier attempt succeeded).
    case alreadyExists
}
