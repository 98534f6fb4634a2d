/// An order as the vendor reports it.
public struct VendorOrder: Sendable, Equatable, Codable {
    public enum Status: String, Sendable, Codable {
        /// Created but not confirmed (Gelato drafts).
        case draft
        case accepted
        case inProduction = "in_production"
        case shipped
        case cancelled
        case failed
    }

    public struct Shipment: Sendable, Equatable, Codable {
        public var carrier: String?
        public var trackingNumber: String?
        public var trackingURL: String?

        public init(carrier: String? = nil, trackingNumber: String? = nil, trackingURL: String? = nil) {
            self.carrier = carrier
            self.trackingNumber = trackingNumber
            self.trackingURL = trackingURL
        }
    }

    public var id: String
    public var status: Status
    public var shipment: Shipment?
    /// How we got it: created, already existed (replayed key), adopted after a lookup.
    public var how: String

    public init(id: String, status: Status, shipment: Shipment? = nil, how: String = "created") {
        self.id = id
        self.status = status
        self.shipment = shipment
        self.how = how
    }

    /// The order state this vendor status maps to.
    public var orderState: OrderState {
        switch status {
        case .draft, .accepted: return .accepted
        case .inProduction: return .inProduction
        case .shipped: return .shipped
        case .cancelled: return .cancelled
        case .failed: return .failed
        }
    }
}

/// A status change a vendor reported by webhook, mapped to our terms.
public struct VendorEvent: Sendable, Equatable {
    public var vendorOrderID: String?
    /// Our key / external id / reference, when the event carries it.
    public var key: String?
    public var status: VendorOrder.Status
    public var shipment: VendorOrder.Shipment?
    /// The vendor's own event name, for the timeline.
    public var kind: String

    public init(vendorOrderID: String?, key: String?, status: VendorOrder.Status, shipment: VendorOrder.Shipment? = nil, kind: String) {
        self.vendorOrderID = vendorOrderID
        self.key = key
        self.status = status
        self.shipment = shipment
        self.kind = kind
    }
}
