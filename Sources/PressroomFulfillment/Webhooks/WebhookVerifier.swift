import Crypto
import Foundation
import PressroomQueue
import PressroomSupport

/// Checks that a forwarded webhook really comes from the vendor, per its
/// `webhooks.verify` setting. Every comparison is constant-time. A failure is
/// a permanent error with a clear reason that never quotes the secret.
public struct WebhookVerifier: Sendable {
    public let vendor: String
    public let settings: VendorConfiguration.Webhooks

    public init(vendor: String, settings: VendorConfiguration.Webhooks) {
        self.vendor = vendor
        self.settings = settings
    }

    /// - Parameters:
    ///   - headers: names in any case.
    ///   - query: the forwarded URL's query parameters (for `?token=`).
    public func verify(body: Data, headers: [String: String], query: [String: String] = [:], now: Date = Date()) throws {
        let lower = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { a, _ in a })
        func header(_ name: String) -> String? { lower[name.lowercased()] }
        func fail(_ reason: String) -> JobError { .permanent("webhook from \(vendor) rejected: \(reason)") }
        let key = SymmetricKey(data: Data(settings.secret.utf8))

        switch settings.verify {
        case .printfulHMAC, .luluHMAC:
            let name = settings.header ?? (settings.verify == .printfulHMAC ? "x-pf-webhook-signature" : "Lulu-HMAC-SHA256")
            guard let given = header(name), !given.isEmpty else { throw fail("missing signature header \(name)") }
            let mac = Data(HMAC<SHA256>.authenticationCode(for: body, using: key))
            guard let provided = Self.hexBytes(given.trimmingCharacters(in: .whitespaces)) else { throw fail("\(name) is not a hex HMAC-SHA256") }
            guard Self.constantTimeEqual(mac, provided) else { throw fail("bad signature in \(name) (HMAC-SHA256 of the raw body does not match)") }

        case .timestampedHMAC:
            let name = settings.header ?? "X-Pressroom-Signature"
            let tsName = settings.timestampHeader ?? "X-Pressroom-Timestamp"
            guard let stamp = header(tsName), let seconds = Double(stamp.trimmingCharacters(in: .whitespaces)) else {
                throw fail("missing or malformed timestamp header \(tsName)")
            }
            let age = abs(now.timeIntervalSince1970 - seconds)
            guard age <= settings.tolerance.duration.seconds else {
                throw fail("timestamp is \(Int(age)) s away from now, outside the \(settings.tolerance) tolerance (a replay or a wrong clock)")
            }
            guard var given = header(name), !given.isEmpty else { throw fail("missing signature header \(name)") }
            if given.hasPrefix("sha256=") { given.removeFirst("sha256=".count) }
            var signed = Data(stamp.trimmingCharacters(in: .whitespaces).utf8)
            signed.append(UInt8(ascii: "."))
            signed.append(body)
            let mac = Data(HMAC<SHA256>.authenticationCode(for: signed, using: key))
            guard let provided = Self.hexBytes(given), Self.constantTimeEqual(mac, provided) else {
                throw fail("bad signature in \(name) (HMAC-SHA256 of timestamp.body does not match)")
            }

        case .sharedSecret:
            let name = settings.header ?? "X-Pressroom-Webhook-Secret"
            guard let given = header(name) ?? query["token"] else { throw fail("missing shared secret (header \(name) or ?token=)") }
            guard Self.constantTimeEqual(Data(given.utf8), Data(settings.secret.utf8)) else { throw fail("wrong shared secret") }
        }
    }

    static func hexBytes(_ hex: String) -> Data? {
        let chars = Array(hex.lowercased().utf8)
        guard chars.count % 2 == 0, !chars.isEmpty else { return nil }
        var out = Data(capacity: chars.count / 2)
        var i = 0
        while i < chars.count {
            guard let hi = nibble(chars[i]), let lo = nibble(chars[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: return c - 48
        case 97...102: return c - 87
        default: return nil
        }
    }

    /// Compares every byte whatever the first difference (lengths leak, contents do not).
    static func constantTimeEqual(_ a: Data, _ b: Data) -> Bool {
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for (x, y) in zip(a, b) { diff |= x ^ y }
        return diff == 0
    }

    /// The headers a vendor sending `body` at `now` would sign it with, so
    /// `verify` accepts it (the sandbox vendor's own status updates).
    public func signedHeaders(body: Data, now: Date = Date()) -> [String: String] {
        switch settings.verify {
        case .printfulHMAC:
            return [settings.header ?? "x-pf-webhook-signature": Self.hmacHex(body, secret: settings.secret)]
        case .luluHMAC:
            return [settings.header ?? "Lulu-HMAC-SHA256": Self.hmacHex(body, secret: settings.secret)]
        case .timestampedHMAC:
            let stamp = String(Int64(now.timeIntervalSince1970))
            return [settings.timestampHeader ?? "X-Pressroom-Timestamp": stamp,
                    settings.header ?? "X-Pressroom-Signature": "sha256=" + Self.hmacHex(Data((stamp + ".").utf8) + body, secret: settings.secret)]
        case .sharedSecret:
            return [settings.header ?? "X-Pressroom-Webhook-Secret": settings.secret]
        }
    }

    /// Hex HMAC-SHA256, for tests and for shops that sign what they forward.
    public static func hmacHex(_ data: Data, secret: String) -> String {
        HMAC<SHA256>.authenticationCode(for: data, using: SymmetricKey(data: Data(secret.utf8))).hexString
    }
}
