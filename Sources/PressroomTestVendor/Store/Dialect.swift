/// The four API dialects the test vendor speaks, each under its own path
/// prefix (a vendor's `baseURL` is `http://127.0.0.1:PORT/<prefix>`).
enum Dialect: String, Sendable, CaseIterable, Codable {
    /// IETF httpapi `Idempotency-Key` header; our own body shape.
    case generic
    /// Prodigi v4 Orders: `idempotencyKey` in the body.
    case prodigi
    /// Printful v1 orders: `external_id` unique per store.
    case printful
    /// Gelato v4 orders: no dedupe at all.
    case gelato

    var prefix: String { "/\(rawValue)" }

    /// Whether a repeated key is answered from the first create (all but Gelato).
    var dedupes: Bool { self != .gelato }
}

/// What a request does, for faults (`operation`) and the per-account stats.
enum Operation: String, Sendable, CaseIterable, Codable {
    case create, lookup, confirm, search, token
}

/// A vendor order's state in vendor-neutral terms; each dialect renders it
/// in its own vocabulary.
enum OrderStatus: String, Sendable, Codable {
    /// A Gelato draft or a Printful order created without `confirm`.
    case draft
    case received
    case inProduction = "in_production"
    case shipped
    case cancelled
}
