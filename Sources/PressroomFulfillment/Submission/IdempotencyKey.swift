import Crypto
import Foundation

/// The key that makes a vendor create exactly-once: derived from the shop's
/// order id and the vendor's name only, so it is the same on every retry, in
/// every process, after every restart. At most 32 characters of
/// `[0-9A-Za-z_-]`, which fits every vendor (Printful's `external_id` is the
/// tightest): a readable part of the order id, then 11 characters of a
/// base64url SHA-256 of (vendor, order id) that keep it unique.
public enum IdempotencyKey {
    public static let maxLength = 32

    public static func derive(orderID: String, vendor: String) -> String {
        // ASCII letters, digits, `-` and `_`, tested as bytes: `CharacterSet`
        // (ICU on Linux) was a sixtieth of a fulfil ticket's CPU.
        let readable = String(decoding: orderID.utf8.lazy.filter(Self.isKeyByte).prefix(20), as: UTF8.self)
        let digest = SHA256.hash(data: Data("pressroom\u{0}\(vendor)\u{0}\(orderID)".utf8))
        // base64url: the first 11 of 44 base64 characters (never padding), `+` and `/` mapped.
        let tail = String(decoding: Data(digest).base64EncodedString().utf8.prefix(11).map { byte -> UInt8 in
            switch byte {
            case UInt8(ascii: "+"): return UInt8(ascii: "-")
            case UInt8(ascii: "/"): return UInt8(ascii: "_")
            default: return byte
            }
        }, as: UTF8.self)
        return readable.isEmpty ? "pr-" + tail : readable + "-" + tail
    }

    static func isKeyByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "-"), UInt8(ascii: "_"):
            return true
        default:
            return false
        }
    }
}
