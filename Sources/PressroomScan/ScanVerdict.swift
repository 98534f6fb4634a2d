/// What clamd said about one stream.
public enum ScanVerdict: Sendable, Equatable, Codable {
    case clean
    /// The signature name clamd reported, e.g. `Eicar-Test-Signature`.
    case infected(signature: String)

    public var isClean: Bool { self == .clean }
}
