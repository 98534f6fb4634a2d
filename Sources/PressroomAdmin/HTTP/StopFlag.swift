import Synchronization

/// A shared "stop was requested" bit, so the server and its log adapter agree
/// on whether a closed socket is an error or the expected end.
final class StopFlag: Sendable {
    private let value = Atomic(false)

    var isSet: Bool { value.load(ordering: .acquiring) }

    func set() { value.store(true, ordering: .releasing) }
}
