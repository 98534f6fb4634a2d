import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// AWS Signature Version 4 (header and presigned-query authorisation).
///
/// Written here rather than using libcurl's `CURLOPT_AWS_SIGV4`, which in
/// curl 7.88 signs S3 uploads wrongly. Defaults follow S3's rules: the path is
/// neither normalised nor double-encoded, and `x-amz-content-sha256` is always
/// sent and signed.
public struct SigV4Signer: Sendable {
    /// Choices that differ between S3 and the other AWS services.
    public struct Options: Sendable, Equatable {
        /// Remove `.`/`..` and repeated slashes before signing (never for S3).
        public var normalizePath: Bool
        /// Add and sign `x-amz-content-sha256` (always for S3).
        public var addContentSHA256Header: Bool
        /// Sign the session token; when `false` it is added after signing
        /// (some services, e.g. IoT, want it outside the signature).
        public var signSessionToken: Bool

        public init(normalizePath: Bool = false, addContentSHA256Header: Bool = true, signSessionToken: Bool = true) {
            self.normalizePath = normalizePath
            self.addContentSHA256Header = addContentSHA256Header
            self.signSessionToken = signSessionToken
        }

        public static let s3 = Options()
    }

    public static let unsignedPayload = "UNSIGNED-PAYLOAD"
    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    private static let algorithm = "AWS4-HMAC-SHA256"

    public var credentials: SigV4Credentials
    public var region: String
    public var service: String
    public var options: Options

    /// The signing key of the day last used (shared by copies of this signer).
    private let signingKeys = SigningKeyCache()

    public init(credentials: SigV4Credentials, region: String, service: String = "s3", options: Options = .s3) {
        self.credentials = credentials
        self.region = region
        self.service = service
        self.options = options
    }

    /// Hex SHA-256 of a payload, as `x-amz-content-sha256` carries it.
    public static func hexSHA256<D: DataProtocol>(_ data: D) -> String {
        SHA256.hash(data: data).hexString
    }

    /// Signs with an `Authorization` header. The request must carry `Host`;
    /// `X-Amz-Date` (and the token and content hash headers) are added here.
    public func signHeaders(_ request: SigV4Request, payloadHash: String, date: Date) -> SigV4Signature {
        let (amzDate, day) = Self.timestamps(date)
        var request = request
        request.setHeader("X-Amz-Date", amzDate)
        if let token = credentials.sessionToken, options.signSessionToken {
            request.setHeader("X-Amz-Security-Token", token)
        }
        if options.addContentSHA256Header {
            request.setHeader("x-amz-content-sha256", payloadHash)
        }
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let (canonicalHeaders, signedHeaders) = Self.canonicalHeaders(request.headers)
        let canonicalRequest = [
            request.method,
            canonicalPath(request.path),
            SigV4Encoding.canonicalQuery(request.query),
            canonicalHeaders,
            signedHeaders,
            payloadHash,
        ].joined(separator: "\n")
        let stringToSign = Self.stringToSign(amzDate: amzDate, scope: scope, canonicalRequest: canonicalRequest)
        let signature = sign(stringToSign, day: day)
        request.setHeader(
            "Authorization",
            "\(Self.algorithm) Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"
        )
        if let token = credentials.sessionToken, !options.signSessionToken {
            request.setHeader("X-Amz-Security-Token", token)
        }
        return SigV4Signature(canonicalRequest: canonicalRequest, stringToSign: stringToSign, signature: signature, signedRequest: request)
    }

    /// Signs in the query string (a presigned URL valid for `expires` seconds).
    /// S3 presigned URLs use ``unsignedPayload``.
    public func presign(_ request: SigV4Request, payloadHash: String = SigV4Signer.unsignedPayload, expires: Int, date: Date) -> SigV4Signature {
        let (amzDate, day) = Self.timestamps(date)
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let (canonicalHeaders, signedHeaders) = Self.canonicalHeaders(request.headers)
        var query = request.query
        query.append(("X-Amz-Algorithm", Self.algorithm))
        query.append(("X-Amz-Credential", "\(credentials.accessKeyID)/\(scope)"))
        query.append(("X-Amz-Date", amzDate))
        query.append(("X-Amz-Expires", String(expires)))
        if let token = credentials.sessionToken, options.signSessionToken {
            query.append(("X-Amz-Security-Token", token))
        }
        query.append(("X-Amz-SignedHeaders", signedHeaders))
        let canonicalRequest = [
            request.method,
            canonicalPath(request.path),
            SigV4Encoding.canonicalQuery(query),
            canonicalHeaders,
            signedHeaders,
            payloadHash,
        ].joined(separator: "\n")
        let stringToSign = Self.stringToSign(amzDate: amzDate, scope: scope, canonicalRequest: canonicalRequest)
        let signature = sign(stringToSign, day: day)
        if let token = credentials.sessionToken, !options.signSessionToken {
            query.append(("X-Amz-Security-Token", token))
        }
        query.append(("X-Amz-Signature", signature))
        var signed = request
        signed.query = query
        return SigV4Signature(canonicalRequest: canonicalRequest, stringToSign: stringToSign, signature: signature, signedRequest: signed)
    }

    private func canonicalPath(_ path: String) -> String {
        SigV4Encoding.encodePath(options.normalizePath ? SigV4Encoding.normalizePath(path) : path)
    }

    private func sign(_ stringToSign: String, day: String) -> String {
        let key = signingKeys.key(secret: credentials.secretAccessKey, day: day, region: region, service: service)
        return HMAC<SHA256>.authenticationCode(for: Data(stringToSign.utf8), using: key).hexString
    }

    private static func stringToSign(amzDate: String, scope: String, canonicalRequest: String) -> String {
        [algorithm, amzDate, scope, hexSHA256(Data(canonicalRequest.utf8))].joined(separator: "\n")
    }

    /// Lower-cased names, values trimmed with inner whitespace runs (and
    /// folded lines) collapsed to one space, duplicates joined with commas.
    static func canonicalHeaders(_ headers: [(name: String, value: String)]) -> (canonical: String, signed: String) {
        var merged: [String: [String]] = [:]
        for (name, value) in headers {
            let collapsed = value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" })
                .joined(separator: " ")
            merged[name.lowercased(), default: []].append(collapsed)
        }
        let names = merged.keys.sorted()
        let canonical = names.map { "\($0):\(merged[$0]!.joined(separator: ","))\n" }.joined()
        return (canonical, names.joined(separator: ";"))
    }

    /// `20150830T123600Z` and `20150830`, always in UTC. `gmtime_r`, not
    /// `Calendar`: a Gregorian calendar and its time zone were built for every
    /// signature (ICU on Linux).
    static func timestamps(_ date: Date) -> (amzDate: String, day: String) {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var c = tm()
        gmtime_r(&seconds, &c)
        func pad(_ value: Int32, _ width: Int) -> String {
            let s = String(value)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        let day = pad(c.tm_year + 1900, 4) + pad(c.tm_mon + 1, 2) + pad(c.tm_mday, 2)
        return (day + "T" + pad(c.tm_hour, 2) + pad(c.tm_min, 2) + pad(c.tm_sec, 2) + "Z", day)
    }
}

/// SigV4's signing key is four HMACs of the secret, the day, the region and
/// the service: the same for every request of a day. One entry (the day in
/// use), checked against all four, so a new day or rotated credentials derive
/// a fresh key.
final class SigningKeyCache: Sendable {
    private struct Entry {
        var secret: String
        var day: String
        var region: String
        var service: String
        /// The key's bytes: `SymmetricKey` is not `Sendable`.
        var key: [UInt8]
    }

    private let entry = Mutex<Entry?>(nil)

    func key(secret: String, day: String, region: String, service: String) -> SymmetricKey {
        if let hit = entry.withLock({ e -> [UInt8]? in
            guard let e, e.day == day, e.secret == secret, e.region == region, e.service == service else { return nil }
            return e.key
        }) {
            return SymmetricKey(data: hit)
        }
        var key = SymmetricKey(data: Data("AWS4\(secret)".utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key))
        }
        let bytes = key.withUnsafeBytes { Array($0) }
        entry.withLock { $0 = Entry(secret: secret, day: day, region: region, service: service, key: bytes) }
        return key
    }
}
