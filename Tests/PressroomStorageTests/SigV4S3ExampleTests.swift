import Foundation
import Testing

@testable import PressroomStorage

/// The worked examples of the S3 API reference (header and query auth).
@Suite("SigV4 S3 worked examples")
struct SigV4S3ExampleTests {
    let signer = SigV4Signer(
        credentials: SigV4Credentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        region: "us-east-1", service: "s3"
    )
    let date = Date(timeIntervalSince1970: 1_369_353_600)  // 20130524T000000Z
    let host = ("Host", "examplebucket.s3.amazonaws.com")

    @Test func getObjectWithRange() {
        let request = SigV4Request(method: "GET", path: "/test.txt", headers: [host, ("Range", "bytes=0-9")])
        let result = signer.signHeaders(request, payloadHash: SigV4Signer.emptyPayloadHash, date: date)
        #expect(result.signature == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        #expect(result.signedRequest.header("x-amz-content-sha256") == SigV4Signer.emptyPayloadHash)
    }

    @Test func putObjectWithSpecialCharacterInKey() {
        let body = Data("Welcome to Amazon S3.".utf8)
        let request = SigV4Request(
            method: "PUT", path: "/test$file.text",
            headers: [host, ("Date", "Fri, 24 May 2013 00:00:00 GMT"), ("x-amz-storage-class", "REDUCED_REDUNDANCY")]
        )
        let result = signer.signHeaders(request, payloadHash: SigV4Signer.hexSHA256(body), date: date)
        #expect(result.canonicalRequest.split(separator: "\n")[1] == "/test%24file.text")
        #expect(result.signature == "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd")
    }

    @Test func getBucketLifecycle() {
        let request = SigV4Request(method: "GET", path: "/", query: [("lifecycle", "")], headers: [host])
        let result = signer.signHeaders(request, payloadHash: SigV4Signer.emptyPayloadHash, date: date)
        #expect(result.signature == "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543")
    }

    @Test func listObjects() {
        let request = SigV4Request(method: "GET", path: "/", query: [("prefix", "J"), ("max-keys", "2")], headers: [host])
        let result = signer.signHeaders(request, payloadHash: SigV4Signer.emptyPayloadHash, date: date)
        #expect(result.signature == "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")
    }

    @Test func presignedGet() {
        let request = SigV4Request(method: "GET", path: "/test.txt", headers: [host])
        let result = signer.presign(request, expires: 86400, date: date)
        #expect(result.signature == "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
        #expect(result.signedRequest.encodedQuery.contains("X-Amz-Expires=86400"))
        #expect(result.canonicalRequest.hasSuffix("\nUNSIGNED-PAYLOAD"))
    }

    @Test func credentialsNeverPrintSecrets() {
        let credentials = SigV4Credentials(accessKeyID: "AKID", secretAccessKey: "very-secret", sessionToken: "token-secret")
        #expect(!"\(credentials)".contains("very-secret"))
        #expect(!"\(credentials)".contains("token-secret"))
    }

    /// The day's signing key is kept, so one signer must still sign a later
    /// day, and rotated credentials, exactly as a fresh signer does.
    @Test func aKeptSigningKeyFollowsTheDayAndTheCredentials() {
        let request = SigV4Request(method: "GET", path: "/test.txt", headers: [host, ("Range", "bytes=0-9")])
        var reused = signer
        let first = reused.signHeaders(request, payloadHash: SigV4Signer.emptyPayloadHash, date: date)
        #expect(first.signature == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        let nextDay = date.addingTimeInterval(86_400)
        let fresh = SigV4Signer(credentials: signer.credentials, region: "us-east-1", service: "s3")
        #expect(reused.signHeaders(request, payloadHash: SigV4Signer.emptyPayloadHash, date: nextDay).signature
                == fresh.signHeaders(request, payloadHash: SigV4Signer.emptyPayloadHash, date: nextDay).signature)
        reused.credentials = SigV4Credentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "rotated")
        let rotated = SigV4Signer(credentials: reused.credentials, region: "us-east-1", service: "s3")
        let afterRotation = reused.signHeaders(request, payloadHash: SigV4Signer.emptyPayloadHash, date: date)
        #expect(afterRotation.signature == rotated.signHeaders(request, payloadHash: SigV4Signer.emptyPayloadHash, date: date).signature)
        #expect(afterRotation.signature != first.signature)
        // And back: the first key is derived again, not mixed up with the rotated one.
        reused.credentials = signer.credentials
        #expect(reused.signHeaders(request, payloadHash: SigV4Signer.emptyPayloadHash, date: date).signature == first.signature)
    }
}
