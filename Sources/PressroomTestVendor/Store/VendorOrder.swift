import Foundation

/// One order as the vendor keeps it: the request body it was created from,
/// its neutral status, and what the asset downloads found.
struct VendorOrder: Sendable {
    struct Shipment: Sendable, Equatable {
        var carrier: String
        var trackingNumber: String
        var trackingUrl: String?
    }

    /// What the vendor found when it fetched one asset URL.
    struct Asset: Sendable, Equatable {
        var url: String
        var downloaded: Bool
        var bytes: Int
        /// Lower-case hex of what was downloaded.
        var sha256: String
        var md5: String
        /// `nil` when the request gave no checksum to compare with.
        var checksumOK: Bool?
    }

    var id: String
    var dialect: Dialect
    /// The dedupe key (Idempotency-Key, idempotencyKey, external_id) or,
    /// for Gelato, the `orderReferenceId`.
    var key: String?
    /// The customer-facing reference the body carries.
    var reference: String?
    var status: OrderStatus
    var shipment: Shipment?
    var assets: [Asset]
    var body: JSONValue
    var createdAt: Date
    var updatedAt: Date
    /// Sub-resource ids (Prodigi items, Gelato items), fixed at creation so
    /// every rendering of the order shows the same ones.
    var itemIDs: [String]
    /// Printful's numeric id (its `id` field); 0 elsewhere.
    var number: Int
}
