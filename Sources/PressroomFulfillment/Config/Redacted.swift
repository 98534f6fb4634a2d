/// Values holding secrets or personal data describe themselves without them,
/// so a `String(describing:)` of anything containing them (swift-service-
/// lifecycle logs every service that way at debug level) leaks nothing.
extension VendorConfiguration.Auth: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        "Auth(kind: \(kind.rawValue)\(header.map { ", header: \($0)" } ?? "")\(tokenURL.map { ", tokenURL: \($0)" } ?? ""), secrets redacted)"
    }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["kind": kind.rawValue, "secrets": "redacted"]) }
}

extension VendorConfiguration.Webhooks: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String { "Webhooks(verify: \(verify.rawValue), secret redacted)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["verify": verify.rawValue, "secret": "redacted"]) }
}

extension FulfillmentOrder.Recipient: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String { "Recipient(country: \(address.countryCode), personal data redacted)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["country": address.countryCode]) }
}

extension Redactor: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String { "Redactor(\(count) values)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: [:]) }
}

extension Fulfillment: CustomStringConvertible {
    public var description: String { "Fulfillment(vendors: \(vendors.keys.sorted().joined(separator: ", ")))" }
}
