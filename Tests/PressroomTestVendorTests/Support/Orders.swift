import Foundation

/// Valid create bodies for each dialect, pointing at the given asset.
enum Orders {
    static func generic(reference: String = "shop-\(UUID().uuidString.prefix(8))", assetURL: String, sha256: String?,
                        md5: String? = nil, postalCode: String? = "94103") -> [String: any Sendable] {
        var asset: [String: any Sendable] = ["url": assetURL]
        if let sha256 { asset["sha256"] = sha256 }
        if let md5 { asset["md5"] = md5 }
        var address: [String: any Sendable] = ["lines": ["1 Market St", "Suite 2"], "city": "San Francisco", "state": "CA", "countryCode": "US"]
        if let postalCode { address["postalCode"] = postalCode }
        return [
            "reference": reference,
            "shipping": "standard",
            "recipient": ["name": "Ada Lovelace", "email": "ada@example.com", "phone": "+1 555 0100", "address": address] as [String: any Sendable],
            "items": [["sku": "print-4x6", "quantity": 2, "assets": [asset]] as [String: any Sendable]],
            "callbackUrl": "http://127.0.0.1:1/callbacks/generic",
        ]
    }

    static func prodigi(key: String = "idem-\(UUID().uuidString)", reference: String = "shop-\(UUID().uuidString.prefix(8))",
                        assetURL: String, md5: String?) -> [String: any Sendable] {
        var asset: [String: any Sendable] = ["printArea": "default", "url": assetURL]
        if let md5 { asset["md5Hash"] = md5 }
        return [
            "idempotencyKey": key,
            "merchantReference": reference,
            "callbackUrl": "http://127.0.0.1:1/callbacks/prodigi",
            "shippingMethod": "Standard",
            "recipient": [
                "name": "Ada Lovelace", "email": "ada@example.com", "phoneNumber": "+44 20 7946 0000",
                "address": ["line1": "10 Downing St", "postalOrZipCode": "SW1A 2AA", "countryCode": "GB", "townOrCity": "London"]
                    as [String: any Sendable],
            ] as [String: any Sendable],
            "items": [[
                "merchantReference": "line-1", "sku": "GLOBAL-PHO-4X6", "copies": 1, "sizing": "fillPrintArea",
                "assets": [asset],
            ] as [String: any Sendable]],
        ]
    }

    static func printful(externalID: String = "pr-\(UUID().uuidString.prefix(12))", assetURL: String,
                         quantity: Int = 1) -> [String: any Sendable] {
        [
            "external_id": externalID,
            "shipping": "STANDARD",
            "recipient": [
                "name": "Ada Lovelace", "address1": "1 Market St", "city": "San Francisco", "state_code": "CA",
                "country_code": "US", "zip": "94103", "email": "ada@example.com", "phone": "+1 555 0100",
            ] as [String: any Sendable],
            "items": [["external_variant_id": "print-4x6", "quantity": quantity, "files": [["url": assetURL, "type": "default"]]]
                as [String: any Sendable]],
        ]
    }

    static func gelato(reference: String = "shop-\(UUID().uuidString.prefix(8))", orderType: String = "draft",
                       assetURL: String) -> [String: any Sendable] {
        [
            "orderType": orderType,
            "orderReferenceId": reference,
            "customerReferenceId": "customer-7",
            "currency": "EUR",
            "shipmentMethodUid": "standard",
            "items": [[
                "itemReferenceId": "line-1", "productUid": "photos_pf_4x6-inch", "quantity": 1,
                "files": [["type": "default", "url": assetURL]],
            ] as [String: any Sendable]],
            "shippingAddress": [
                "firstName": "Ada", "lastName": "Lovelace", "addressLine1": "Unter den Linden 1", "city": "Berlin",
                "postCode": "10117", "country": "DE", "email": "ada@example.com",
            ] as [String: any Sendable],
        ]
    }
}
