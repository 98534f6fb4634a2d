/// Where a dialect sends a request.
enum RouteMatch: Sendable {
    case handler(Operation, @Sendable (APICall) async -> Reply)
    /// The path exists, but not for this method.
    case methodNotAllowed(allowed: [String])
    case notFound
}
