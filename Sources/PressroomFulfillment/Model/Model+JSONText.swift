import PressroomSupport

// The documents every ticket writes, by hand (see ``JSONText/Object``): each
// is byte for byte what `JSONEncoder` with `.sortedKeys` wrote for the same
// value before, so records and digests written by earlier versions still
// compare equal. Fields go in ascending key order; `WireTextTests` checks
// each against `JSONEncoder`. A field added to one of these types must be
// added here too (the tests encode fully populated values, so they fail).

extension FulfillmentOrder {
    /// The canonical payload a record stores and `payload_sha256` digests:
    /// its bytes decide whether a second job with the same order id is the same order.
    public var canonicalJSON: String {
        var o = JSONText.Object()
        o.raw("items", JSONText.array(items.map(\.json)))
        o.string("orderId", orderId)
        o.string("preferredVendor", preferredVendor)
        o.raw("recipient", recipient.json(escapingSlashes: true))
        o.string("reference", reference)
        o.string("shipping", shipping.rawValue)
        return o.json
    }
}

extension FulfillmentOrder.Item {
    var json: String {
        var o = JSONText.Object()
        o.string("master", master)
        o.string("product", product)
        o.int("quantity", quantity)
        o.string("sku", sku)
        return o.json
    }
}

extension FulfillmentOrder.Recipient {
    /// The same fields in the canonical payload and in vendor bodies (which do not escape slashes).
    func json(escapingSlashes: Bool) -> String {
        var a = JSONText.Object(escapingSlashes: escapingSlashes)
        a.string("city", address.city)
        a.string("countryCode", address.countryCode)
        a.strings("lines", address.lines)
        a.string("postalCode", address.postalCode)
        a.string("state", address.state)
        var o = JSONText.Object(escapingSlashes: escapingSlashes)
        o.raw("address", a.json)
        o.string("email", email)
        o.string("name", name)
        o.string("phone", phone)
        return o.json
    }
}

extension Asset {
    /// The assets a record stores (`assets`): what every re-send is made from.
    public static func json(_ assets: [Asset]) -> String {
        JSONText.array(assets.map { asset in
            var o = JSONText.Object()
            o.int("bytes", asset.bytes)
            o.string("md5", asset.md5)
            o.string("sha256", asset.sha256)
            o.string("url", asset.url)
            return o.json
        })
    }
}

extension SubmissionIntent {
    /// The write-ahead record (`intent:<seq>`).
    public var json: String {
        var o = JSONText.Object()
        o.int("at", at)
        o.int("attempt", attempt)
        o.string("consumer", consumer)
        o.string("key", key)
        o.int("leaseUntil", leaseUntil)
        o.string("operation", operation)
        o.int("seq", seq)
        o.string("vendor", vendor)
        return o.json
    }
}

extension SubmissionResult {
    /// What came of an intent (`result:<seq>`).
    public var json: String {
        var o = JSONText.Object()
        o.int("at", at)
        o.string("detail", detail)
        o.int("durationMs", durationMs)
        o.int("httpStatus", httpStatus)
        o.string("outcome", outcome.rawValue)
        o.int("seq", seq)
        o.string("vendorOrderID", vendorOrderID)
        return o.json
    }
}

extension Fulfillment.Outcome {
    /// A `fulfill` job's result (docs/wire-format.md).
    public var json: String {
        var o = JSONText.Object()
        o.string("how", how)
        o.string("key", key)
        o.string("orderId", orderId)
        o.string("state", state.rawValue)
        o.string("vendor", vendor)
        o.string("vendorOrderId", vendorOrderId)
        return o.json
    }
}

extension RoutingDecision {
    /// The decision a record stores (`route`), written once per routed order.
    /// Nothing digests or re-sends it, so only its value must survive: a
    /// cost is written in Swift's shortest form, which may differ from
    /// `JSONEncoder`'s bytes (`2.0` for `2`) but decodes to the same number.
    public var json: String {
        var o = JSONText.Object()
        o.int("at", at)
        o.raw("candidates", JSONText.array(candidates.map(\.json)))
        o.string("reason", reason)
        o.string("vendor", vendor)
        return o.json
    }
}

extension RoutingDecision.Candidate {
    var json: String {
        var o = JSONText.Object()
        o.double("cost", cost)
        o.int("priority", priority)
        o.string("vendor", vendor)
        o.string("verdict", verdict)
        return o.json
    }
}
