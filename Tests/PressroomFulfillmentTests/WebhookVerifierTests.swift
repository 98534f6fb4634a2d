import Foundation
@testable import PressroomFulfillment
import PressroomQueue
import Testing

@Suite("webhook verification")
struct WebhookVerifierTests {
    let body = Data(#"{"type":"package_shipped","data":{"order":{"id":1}}}"#.utf8)

    func rejects(_ verifier: WebhookVerifier, headers: [String: String], query: [String: String] = [:], now: Date = Date()) -> String? {
        do {
            try verifier.verify(body: body, headers: headers, query: query, now: now)
            return nil
        } catch let error as JobError {
            #expect(error.errorClass == .permanent)
            #expect(!error.message.contains("whsec"), "the secret never appears in the reason")
            return error.message
        } catch {
            return "\(error)"
        }
    }

    @Test func printfulAndLuluHMACs() {
        let printful = WebhookVerifier(vendor: "pf", settings: .init(verify: .printfulHMAC, secret: "whsec-1"))
        let good = WebhookVerifier.hmacHex(body, secret: "whsec-1")
        #expect(rejects(printful, headers: ["X-PF-Webhook-Signature": good]) == nil)
        #expect(rejects(printful, headers: ["x-pf-webhook-signature": WebhookVerifier.hmacHex(body, secret: "other")])?.contains("bad signature") == true)
        #expect(rejects(printful, headers: [:])?.contains("missing signature header") == true)
        let lulu = WebhookVerifier(vendor: "lulu", settings: .init(verify: .luluHMAC, secret: "whsec-2"))
        #expect(rejects(lulu, headers: ["Lulu-HMAC-SHA256": WebhookVerifier.hmacHex(body, secret: "whsec-2")]) == nil)
        #expect(rejects(lulu, headers: ["Lulu-HMAC-SHA256": "zz"]) != nil)
    }

    @Test func timestampedHMACRejectsReplaysOutsideTheWindow() {
        let v = WebhookVerifier(vendor: "gen", settings: .init(verify: .timestampedHMAC, secret: "whsec-3", tolerance: .seconds(300)))
        let now = Date()
        func sign(_ ts: Int) -> [String: String] {
            var signed = Data("\(ts).".utf8)
            signed.append(body)
            return ["X-Pressroom-Timestamp": "\(ts)", "X-Pressroom-Signature": "sha256=" + WebhookVerifier.hmacHex(signed, secret: "whsec-3")]
        }
        let ts = Int(now.timeIntervalSince1970)
        #expect(rejects(v, headers: sign(ts), now: now) == nil)
        #expect(rejects(v, headers: sign(ts - 3600), now: now)?.contains("tolerance") == true, "an old, correctly signed body is a replay")
        var tampered = sign(ts)
        tampered["X-Pressroom-Timestamp"] = "\(ts + 1)"
        #expect(rejects(v, headers: tampered, now: now)?.contains("bad signature") == true)
    }

    @Test func sharedSecretInAHeaderOrTheURL() {
        let v = WebhookVerifier(vendor: "gelato", settings: .init(verify: .sharedSecret, secret: "whsec-4", header: "X-Gelato-Token"))
        #expect(rejects(v, headers: ["x-gelato-token": "whsec-4"]) == nil)
        #expect(rejects(v, headers: [:], query: ["token": "whsec-4"]) == nil)
        #expect(rejects(v, headers: ["X-Gelato-Token": "whsec-5"])?.contains("wrong shared secret") == true)
    }
}
