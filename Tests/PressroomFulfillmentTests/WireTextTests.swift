import Foundation
@testable import PressroomFulfillment
import PressroomHTTP
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
