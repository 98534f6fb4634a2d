import Foundation

/// What a dialect made of a create request: its dedupe key, the problems
/// its body has, the assets to fetch, and how to answer once the order exists.
struct CreatePlan: Sendable {
    var dialect: Dialect
    /// The dedupe key; `nil` for Gelato, which creates whatever it is sent.
    var key: String?
    /// Name under which the stats count orders (the key, or Gelato's `orderReferenceId`).
    var statsKey: String?
    var reference: String?
    var body: JSONValue
    var problems: [FieldProblem]
    var assets: [AssetFetcher.Request]
    var initialStatus: OrderStatus
    var itemCount: Int
    /// The success answer for the new order.
    var render: @Sendable (VendorOrder) -> Reply
    /// The answer to a repeated key whose first create succeeded.
    var replay: @Sendable (_ sameBody: Bool, _ existing: VendorOrder?, _ first: StoredResponse) -> Reply
}

/// The create pipeline every dialect shares: reserve the key (409 while it
/// is in flight, the dialect's replay once done), wait the latency, refuse
/// invalid bodies, download and check every asset, create, answer, and only
/// then let the key go.
enum CreateFlow {
    static func run(_ plan: CreatePlan, _ call: APICall) async -> Reply {
        let store = call.store
        if let key = plan.key {
            switch await store.reserve(key, dialect: plan.dialect, fingerprint: plan.body.canonicalData, account: call.account) {
            case .inFlight:
                await call.pause()
                return call.style.inFlight()
            case .completed(let sameBody, let orderID, let first):
                await call.pause()
                let existing = await store.order(orderID, account: call.account)
                return plan.replay(sameBody, existing, first)
            case .reserved:
                break
            }
        }
        await call.pause()
        let assets: [VendorOrder.Asset]
        if !plan.problems.isEmpty {
            return await refuse(plan, call, plan.problems)
        }
        switch await call.services.assets.fetch(plan.assets) {
        case .failure(let refused):
            return await refuse(plan, call, refused.problems)
        case .success(let fetched):
            assets = fetched
        }
        let (id, number) = await store.newOrderID(plan.dialect)
        let now = Date()
        let order = VendorOrder(
            id: id, dialect: plan.dialect, key: plan.statsKey, reference: plan.reference, status: plan.initialStatus,
            shipment: nil, assets: assets, body: plan.body, createdAt: now, updatedAt: now,
            itemIDs: (0..<plan.itemCount).map { itemID(plan.dialect, order: id, index: $0) }, number: number)
        await store.insert(order, account: call.account)
        var reply = plan.render(order)
        guard let key = plan.key else { return reply }
        await store.complete(key, dialect: plan.dialect, orderID: id, response: reply.stored, account: call.account)
        let (dialect, account) = (plan.dialect, call.account)
        reply.afterDelivery = { await store.finish(key, dialect: dialect, account: account) }
        return reply
    }

    /// Refused before anything was created: the key is free again (after delivery, so it stays in flight during a hold).
    private static func refuse(_ plan: CreatePlan, _ call: APICall, _ problems: [FieldProblem]) async -> Reply {
        var reply = call.style.validationFailed(problems)
        if let key = plan.key {
            let (store, dialect, account) = (call.store, plan.dialect, call.account)
            reply.afterDelivery = { await store.release(key, dialect: dialect, account: account) }
        }
        return reply
    }

    /// Stable sub-resource ids, derived from the order's.
    static func itemID(_ dialect: Dialect, order: String, index: Int) -> String {
        switch dialect {
        case .prodigi: "ori_\(order.dropFirst(4))\(String(format: "%02d", index + 1))"
        case .printful: "\(order)\(String(format: "%02d", index + 1))"
        case .gelato, .generic: "\(order.prefix(24))\(String(format: "%012x", index + 1))"
        }
    }
}
