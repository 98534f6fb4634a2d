/// What the layout needs on every page. Pages are plain structs read by
/// swift-mustache through reflection.
struct PageFrame: Sendable {
    enum Section: Sendable { case overview, consumers, dead, jobs, orders, none }

    var title: String
    var nonce: String
    var csrf: String
    var user: String
    var readOnly: Bool
    var canWrite: Bool
    var version: String
    var namespace: String
    var generatedAt: String
    /// Seconds, on pages that refresh themselves.
    var refresh: Int?
    var refreshValue: Int
    var hasOrders: Bool
    var navOverview = false
    var navConsumers = false
    var navDead = false
    var navJobs = false
    var navOrders = false

    /// A page that refreshes itself every `seconds` (already clamped by the caller).
    mutating func live(_ title: String, _ section: Section, refresh seconds: Int) {
        self.title = title
        select(section)
        refresh = seconds
        refreshValue = seconds
    }

    mutating func select(_ section: Section) {
        navOverview = section == .overview
        navConsumers = section == .consumers
        navDead = section == .dead
        navJobs = section == .jobs
        navOrders = section == .orders
    }
}

struct Page<Body: Sendable>: Sendable {
    var frame: PageFrame
    var body: Body
}

struct FieldPair: Sendable {
    var name: String
    var value: String
}

struct MessageBody: Sendable {
    var noticeClass: String
    var text: String
}
