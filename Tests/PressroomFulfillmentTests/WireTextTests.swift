import Foundation
@testable import PressroomFulfillment
import PressroomHTTP
import PressroomSupport
import Testing

/// The hand-written encoders and parsers on the fulfil path agree with Foundation's.
@Suite struct WireTextTests {
    @Test func orderStoreJSONParsesBackToTheSameMap() throws {
        let map = ["detail": "quote \" backslash \\ slash / newline \n tab \t bell \u{07} ü 🖨", "b": "", "a": "1"]
        let text = OrderStore.json(map)
        #expect(text.hasPrefix(#"{"a":"1","b":"","#), "keys are sorted: \(text)")
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: String])
        #expect(parsed == map)
        #expect(OrderStore.json([:]) == "{}")
    }

    @Test func theDigestIsTheSHA256OfTheStoredPayload() throws {
        let order = try JSONDecoder().decode(FulfillmentOrder.self, from: Data(#"""
            {"orderId":"W-1","reference":"#1","shipping":"standard",
             "recipient":{"name":"N","address":{"lines":["L"],"city":"C","postalCode":"P","countryCode":"DE"}},
             "items":[{"product":"print-4x6","quantity":1,"master":"masters/a.tif"}]}
            """#.utf8))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let canonical = try encoder.encode(order)
        #expect(Fulfillment.digest(order) == Fulfillment.digest(json: String(decoding: canonical, as: UTF8.self)))
        #expect(Fulfillment.digest(order).count == 64)
    }

    /// Strings that exercise every escape JSON has, and some it has not.
    static let awkward = "quote \" backslash \\ slash / newline \n return \r tab \t bell \u{07} unit \u{1F} del \u{7F} ü 🖨 \u{2028} end"

    static func encoded<T: Encodable>(_ value: T, escapingSlashes: Bool = true) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = escapingSlashes ? [.sortedKeys] : [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func orders() -> [FulfillmentOrder] {
        let w = awkward
        let full = FulfillmentOrder(
            orderId: "W-\(w)", reference: "#1/\(w)", shipping: .express,
            recipient: .init(name: w, email: "a/b@example.com", phone: "+49 30 1234", address: .init(lines: [w, "", "2nd/floor"], city: w, state: "BE", postalCode: "10115", countryCode: "DE")),
            items: [.init(product: "print-4x6", quantity: 3, master: "masters/a/\(w).tif", sku: "SKU/1"), .init(product: "poster-a2", quantity: 0, master: "m")],
            preferredVendor: "lab/\(w)")
        let minimal = FulfillmentOrder(orderId: "1", reference: "", shipping: .budget,
                                       recipient: .init(name: "N", address: .init(lines: [], city: "C", postalCode: "P", countryCode: "US")), items: [])
        return [full, minimal]
    }

    /// The hand-written documents are byte for byte JSONEncoder's: records and
    /// digests written before them, and re-sent vendor bodies, stay equal.
    @Test func handWrittenDocumentsAreJSONEncodersBytes() throws {
        for order in Self.orders() {
            #expect(order.canonicalJSON == (try Self.encoded(order)))
            #expect(Fulfillment.digest(order) == Fulfillment.digest(json: try Self.encoded(order)))
        }
        let assets = [Asset(url: "https://s3.example/b/masters/x.tif?X-Amz-Signature=\(Self.awkward)", sha256: String(repeating: "ab", count: 32), md5: "0f", bytes: 12_345_678_901),
                      Asset(url: "u")]
        #expect(Asset.json(assets) == (try Self.encoded(assets)))
        #expect(Asset.json([]) == (try Self.encoded([Asset]())))
        let intent = SubmissionIntent(seq: 12, vendor: "lab/\(Self.awkward)", key: "K-1_x", attempt: 3, operation: "resume",
                                      at: 1_796_327_869_774, leaseUntil: -1, consumer: "host/\(Self.awkward)")
        #expect(intent.json == (try Self.encoded(intent)))
        for result in [SubmissionResult(seq: 2, outcome: .notSent, at: 5, vendorOrderID: "V/\(Self.awkward)", httpStatus: 503, detail: Self.awkward, durationMs: 0),
                       SubmissionResult(seq: 1, outcome: .accepted, at: 0, detail: "", durationMs: 61)] {
            #expect(result.json == (try Self.encoded(result)))
        }
        for outcome in [Fulfillment.Outcome(orderId: "O/\(Self.awkward)", state: .inProduction, vendor: "v", vendorOrderId: "1/2", how: Self.awkward, key: "k"),
                        Fulfillment.Outcome(orderId: "O", state: .accepted, vendor: nil, vendorOrderId: nil, how: "created", key: nil)] {
            #expect(outcome.json == (try Self.encoded(outcome)))
        }
    }

    /// Runs of plain text between escapes are copied whole: escapes first,
    /// last, back to back, and next to multi-byte scalars come out as JSONEncoder's.
    @Test func stringsAreEscapedAtEveryPositionOfARun() throws {
        for value in ["", "plain", "\"", "\"start", "end\\", "\n\t\u{01}", "ü\"🖨/\u{1F}é", "/", "a/b/c", "\u{301}\"\u{301}", Self.awkward + "\""] {
            for slashes in [true, false] {
                var text = ""
                JSONText.append(value, to: &text, escapingSlashes: slashes)
                #expect(text == (try Self.encoded(value, escapingSlashes: slashes)), "\(value.debugDescription)")
            }
            #expect(JSONText.quoted(value) == (try Self.encoded(value, escapingSlashes: false)))
        }
    }

    /// The stored routing decision decodes to the decision (its costs in
    /// Swift's shortest form, which need not be JSONEncoder's bytes).
    @Test func theRoutingDecisionRoundTrips() throws {
        let decision = RoutingDecision(
            vendor: "lab/\(Self.awkward)", reason: "printlab-eu: open breaker; chose printlab-us, priority 2 \(Self.awkward)",
            candidates: [.init(vendor: "printlab-eu", priority: 1, cost: 4.35, verdict: "open breaker"),
                         .init(vendor: "printlab-us", priority: 2, cost: 3, verdict: "chosen"),
                         .init(vendor: "tiny", priority: nil, cost: 1e-7, verdict: Self.awkward),
                         .init(vendor: "none", priority: -3, cost: nil, verdict: ""),
                         .init(vendor: "inf", priority: 0, cost: .infinity, verdict: "left out")],
            at: 1_796_327_869_774)
        let decoded = try JSONDecoder().decode(RoutingDecision.self, from: Data(decision.json.utf8))
        var expected = decision
        expected.candidates[4].cost = nil
        #expect(decoded == expected)
        var finite = decision
        finite.candidates.removeLast()
        finite.candidates[1].cost = 3.5
        #expect(finite.json == (try Self.encoded(finite)), "costs with a fraction are JSONEncoder's bytes too")
    }

    /// The create body of the generic adapter as the `Encodable` it replaced wrote it.
    struct EncodedBody: Encodable {
        struct Address: Encodable { var lines: [String]; var city: String; var state: String?; var postalCode: String; var countryCode: String }
        struct Recipient: Encodable { var name: String; var email: String?; var phone: String?; var address: Address }
        struct AssetRef: Encodable { var url: String; var sha256: String?; var md5: String? }
        struct Item: Encodable { var sku: String; var quantity: Int; var assets: [AssetRef] }
        var reference: String
        var shipping: String
        var recipient: Recipient
        var items: [Item]
        var callbackUrl: String?
    }

    @Test func theGenericCreateBodyIsUnchangedByteForByte() throws {
        for (order, callback) in zip(Self.orders(), ["https://shop.example/hooks/\(Self.awkward)", nil]) {
            var configuration = Fixtures.vendor(["DE": 1, "US": 1], products: ["print-4x6", "poster-a2"])
            configuration.callbackURL = callback
            configuration.shippingMethods = ["express": "EXP/1"]
            let lines = order.items.enumerated().map { index, item in
                PrintTicket.Line(item: item, product: configuration.products[item.product]!,
                                 asset: Asset(url: "https://s3.example/\(index)/\(Self.awkward)", sha256: index == 0 ? "aa" : nil, md5: index == 0 ? nil : "bb"))
            }
            let ticket = PrintTicket(order: order, lines: lines, key: "K")
            let r = order.recipient
            let reference = EncodedBody(
                reference: order.reference, shipping: ticket.shippingMethod(configuration.shippingMethods, defaults: [:]),
                recipient: .init(name: r.name, email: r.email, phone: r.phone,
                                 address: .init(lines: r.address.lines, city: r.address.city, state: r.address.state,
                                                postalCode: r.address.postalCode, countryCode: r.address.countryCode)),
                items: lines.map { .init(sku: $0.item.sku ?? $0.product.sku, quantity: $0.item.quantity,
                                         assets: [.init(url: $0.asset.url, sha256: $0.asset.sha256, md5: $0.asset.md5)]) },
                callbackUrl: callback)
            let body = String(decoding: IdempotencyKeyAdapter.body(ticket, configuration: configuration), as: UTF8.self)
            #expect(body == (try Self.encoded(reference, escapingSlashes: false)))
        }
    }

    @Test func httpDatesParseWithoutAFormatter() throws {
        // RFC 9110's example in all three formats, and the Unix epoch.
        let expected = Date(timeIntervalSince1970: 784_111_777)
        #expect(HTTPDate.parse("Sun, 06 Nov 1994 08:49:37 GMT") == expected)
        #expect(HTTPDate.parse("  Sun, 06 Nov 1994 08:49:37 GMT ") == expected)
        #expect(HTTPDate.parse("Sunday, 06-Nov-94 08:49:37 GMT") == expected)
        #expect(HTTPDate.parse("Sun Nov  6 08:49:37 1994") == expected)
        #expect(HTTPDate.parse("Thu, 01 Jan 1970 00:00:00 GMT") == Date(timeIntervalSince1970: 0))
        #expect(HTTPDate.parse("Tue, 29 Feb 2028 23:59:59 GMT") == Date(timeIntervalSince1970: 1_835_481_599))
        for bad in ["", "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 06 Xyz 1994 08:49:37 GMT", "Sun, 06 Nov 1994 25:49:37 GMT"] {
            #expect(HTTPDate.parse(bad) == nil, "\(bad)")
        }
        #expect(HTTPDate.retryAfterSeconds("120") == 120)
        #expect(HTTPDate.retryAfterSeconds("-5") == 0)
        #expect(HTTPDate.retryAfterSeconds("Sun, 06 Nov 1994 08:49:37 GMT") == 0)
        let soon = try #require(HTTPDate.retryAfterSeconds(Self.imfFixdate(Date().addingTimeInterval(90))))
        #expect(soon > 80 && soon <= 90)
    }

    static func imfFixdate(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE',' dd MMM yyyy HH':'mm':'ss 'GMT'"
        return formatter.string(from: date)
    }
}
