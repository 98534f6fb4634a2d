import Foundation
import PressroomFulfillment
import PressroomImaging

/// The `order` job's payload: a paid shop order whose lines still need their
/// print masters (docs/wire-format.md, "Job order"). Stored on the order
/// record as `order_payload`; the fan-in turns it into the `fulfill` payload.
struct ShopOrder: Codable, Sendable, Equatable {
    struct Line: Codable, Sendable, Equatable {
        /// Object key of the customer's upload.
        var source: String
        /// Product policy name, e.g. `print-4x6`.
        var product: String
        /// The customer's crop in normalised coordinates (0-1); the whole image when absent.
        var crop: CropRect?
        var quantity: Int
        /// Overrides the vendor SKU the product policy maps to.
        var sku: String?
    }

    var orderId: String
    var reference: String
    var shipping: FulfillmentOrder.Shipping
    var recipient: FulfillmentOrder.Recipient
    var lines: [Line]
    /// Destination country; must match `recipient.address.countryCode` when given.
    var country: String?
    var preferredVendor: String?
    /// The shop (tenant) and its customer id, passed on to the renders (quotas, erasure).
    var shop: String?
    var customer: String?

    /// The `fulfill` payload once every line has its master (`masters[i]` for line i).
    func fulfillment(masters: [String]) -> FulfillmentOrder {
        FulfillmentOrder(orderId: orderId, reference: reference, shipping: shipping, recipient: recipient,
                         items: zip(lines, masters).map { FulfillmentOrder.Item(product: $0.product, quantity: $0.quantity, master: $1, sku: $0.sku) },
                         preferredVendor: preferredVendor)
    }

    /// Canonical JSON (sorted keys) and its SHA-256: a redelivery matches, another order with the same id does not.
    func canonical() throws -> (json: String, sha256: String) {
        let data = try JSONEncoder.sorted.encode(self)
        return (String(decoding: data, as: UTF8.self), Imaging.sha256(data))
    }
}
