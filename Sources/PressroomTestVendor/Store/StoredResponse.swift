import Foundation

/// A response kept for replay: what the first create answered, byte for byte.
struct StoredResponse: Sendable {
    var status: Int
    var headers: [(name: String, value: String)]
    var body: Data
}
