import Crypto
import Foundation
import Testing

@testable import PressroomStorage

/// The 38 cases of the aws-c-auth SigV4 suite, header and query variants,
/// comparing canonical request, string to sign and signature separately.
@Suite("SigV4 test vectors")
struct SigV4VectorTests {
    struct Context: Decodable {
        struct Credentials: Decodable {
            var access_key_id: String
            var secret_access_key: String
            var token: String?
        }
        var credentials: Credentials
        var expiration_in_seconds: Int
        var normalize: Bool
        var region: String
        var service: String
        var sign_body: Bool
        var timestamp: String
        var omit_session_token: Bool?
    }

    static let root: URL = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
        .appendingPathComponent("sigv4/v4")

    static let cases: [String] = (try? FileManager.default.contentsOfDirectory(atPath: root.path).sorted()) ?? []

    @Test func allThirtyEightCasesArePresent() {
        #expect(Self.cases.count == 38)
    }

    @Test(arguments: cases)
    func headerSigning(_ name: String) throws {
        let (signer, request, body, date, _) = try load(name)
        let result = signer.signHeaders(request, payloadHash: SigV4Signer.hexSHA256(body), date: date)
        #expect(result.canonicalRequest == (try expected(name, "header-canonical-request.txt")))
        #expect(result.stringToSign == (try expected(name, "header-string-to-sign.txt")))
        #expect(result.signature == (try expected(name, "header-signature.txt")))
        #expect(result.signedRequest.header("Authorization")?.hasSuffix("Signature=\(result.signature)") == true)
    }

    @Test(arguments: cases)
    func querySigning(_ name: String) throws {
        let (signer, request, body, date, expires) = try load(name)
        let result = signer.presign(request, payloadHash: SigV4Signer.hexSHA256(body), expires: expires, date: date)
        #expect(result.canonicalRequest == (try expected(name, "query-canonical-request.txt")))
        #expect(result.stringToSign == (try expected(name, "query-string-to-sign.txt")))
        #expect(result.signature == (try expected(name, "query-signature.txt")))
        #expect(result.signedRequest.query.last?.value == result.signature)
    }

    private func expected(_ name: String, _ file: String) throws -> String {
        try String(contentsOf: Self.root.appendingPathComponent(name).appendingPathComponent(file), encoding: .utf8)
    }

    /// Parses `request.txt`: request line, headers (folded lines kept), body.
    private func load(_ name: String) throws -> (SigV4Signer, SigV4Request, Data, Date, Int) {
        let dir = Self.root.appendingPathComponent(name)
        let context = try JSONDecoder().decode(Context.self, from: Data(contentsOf: dir.appendingPathComponent("context.json")))
        let raw = try String(contentsOf: dir.appendingPathComponent("request.txt"), encoding: .utf8)
        let headEnd = raw.range(of: "\n\n")
        let head = headEnd.map { String(raw[..<$0.lowerBound]) } ?? raw
        let body = headEnd.map { Data(raw[$0.upperBound...].utf8) } ?? Data()
        var lines = head.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        let requestLine = lines.removeFirst()
        let method = String(requestLine.prefix { $0 != " " })
        let target = String(requestLine.dropFirst(method.count + 1).dropLast(" HTTP/1.1".count))
        let pathPart = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        var query: [(name: String, value: String)] = []
        if pathPart.count > 1 {
            for item in pathPart[1].split(separator: "&") {
                let kv = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                query.append((SigV4Encoding.decode(String(kv[0])), kv.count > 1 ? SigV4Encoding.decode(String(kv[1])) : ""))
            }
        }
        var headers: [(name: String, value: String)] = []
        for line in lines {
            if line.first == " " || line.first == "\t", !headers.isEmpty {
                headers[headers.count - 1].value += "\n" + line
                continue
            }
            let colon = line.firstIndex(of: ":")!
            headers.append((String(line[..<colon]), String(line[line.index(after: colon)...])))
        }
        let credentials = SigV4Credentials(
            accessKeyID: context.credentials.access_key_id,
            secretAccessKey: context.credentials.secret_access_key,
            sessionToken: context.credentials.token
        )
        let options = SigV4Signer.Options(
            normalizePath: context.normalize,
            addContentSHA256Header: context.sign_body,
            signSessionToken: !(context.omit_session_token ?? false)
        )
        let signer = SigV4Signer(credentials: credentials, region: context.region, service: context.service, options: options)
        let date = try #require(ISO8601DateFormatter().date(from: context.timestamp))
        let request = SigV4Request(method: method, path: String(pathPart[0]), query: query, headers: headers)
        return (signer, request, body, date, context.expiration_in_seconds)
    }
}
