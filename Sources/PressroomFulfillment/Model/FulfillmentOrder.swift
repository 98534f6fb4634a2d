import Foundation

/// A paid shop order ready to print: the `fulfill` job's payload. It names
/// object keys and product policies, never URLs or hosts.
public struct FulfillmentOrder: Codable, Sendable, Equatable {
    public struct Address: Codable, Sendable, Equatable {
        public var lines: [String]
        public var city: String
        public var state: String?
        public var postalCode: String
        /// ISO 3166-1 alpha-2.
        public var countryCode: String

        public init(lines: [String], city: String, state: String? = nil, postalCode: String, countryCode: String) {
            self.lines = lines
            self.city = city
            self.state = state
            self.postalCode = postalCode
            self.countryCode = countryCode
        }
    }

    public struct Recipient: Codable, Sendable, Equatable {
        public var name: String
        public var email: String?
        public var phone: String?
        public var address: Address

        public init(name: String, email: String? = nil, phone: String? = nil, address: Address) {
            self.name = name
            self.email = email
            self.phone = phone
            self.address = address
        }

        /// Everything that identifies the customer: scrubbed from vendor messages.
        public var personalValues: [String] {
            ([name, email, phone, address.city, address.postalCode, address.state].compactMap { $0 } + address.lines)
                .filter { $0.count >= 3 }
        }
    }

    public struct Item: Codable, Sendable, Equatable {
        /// Product policy name, e.g. `print-4x6`.
        public var product: String
        public var quantity: Int
        /// Object key of the rendered print master.
        public var master: String
        /// Overrides the vendor SKU the product policy maps to.
        public var sku: String?

        public init(product: String, quantity: Int, master: String, sku: String? = nil) {
            self.product = product
            self.quantity = quantity
            self.master = master
            self.sku = sku
        }
    }

    public enum Shipping: String, Codable, Sendable, CaseIterable {
        case budget, standard, express
    }

    /// The shop's order id: names the order record and derives vendor keys.
    public var orderId: String
    /// The customer-facing reference (e.g. `#1001`), passed to vendors.
    public var reference: String
    public var shipping: Shipping
    public var recipient: Recipient
    public var items: [Item]
    /// A vendor to use when it covers the order and is healthy.
    public var preferredVendor: String?

    public init(orderId: String, reference: String, shipping: Shipping, recipient: Recipient, items: [Item], preferredVendor: String? = nil) {
        self.orderId = orderId
        self.reference = reference
        self.shipping = shipping
        self.recipient = recipient
        self.items = items
        self.preferredVendor = preferredVendor
    }
}

/// A print master as a vendor fetches it: a presigned GET URL and checksums.
public struct Asset: Codable, Sendable, Equatable {
    public var url: String
    /// Lower-case hex.
    public var sha256: String?
    /// Lower-case hex.
    public var md5: String?
    public var bytes: Int64?

    public init(url: String, sha256: String? = nil, md5: String? = nil, bytes: Int64? = nil) {
        self.url = url
        self.sha256 = sha256
        self.md5 = md5
        self.bytes = bytes
    }
}

/// What an adapter turns into its vendor's request: the order, one asset
/// per item, the vendor's SKUs, and the key that makes the create exactly-once.
public struct PrintTicket: Sendable, Equatable {
    public struct Line: Sendable, Equatable {
        public var item: FulfillmentOrder.Item
        public var product: VendorConfiguration.Product
        public var asset: Asset
    }

    public var order: FulfillmentOrder
    public var lines: [Line]
    /// Idempotency key / external id / order reference at this vendor.
    public var key: String

    public init(order: FulfillmentOrder, lines: [Line], key: String) {
        self.order = order
        self.lines = lines
        self.key = key
    }
}
