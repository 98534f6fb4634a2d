import Crypto
import Foundation
import PressroomHTTP
import PressroomSupport

/// Downloads asset URLs the way a print vendor does before accepting an
/// order: one plain GET each (so a presigned URL is proven to work as
/// given), then hashes what arrived. Only loopback hosts are fetched: the
/// test vendor must never be turned into a client of other machines.
final class AssetFetcher: Sendable {
    struct Options: Sendable {
        var maxBytes: Int
        var timeout: Duration
        var connections: Int
    }

    /// One asset of a create, with where its fields sit in the body.
    struct Request: Sendable {
        var url: String
        /// Field path of the URL (`items[0].assets[0].url`).
        var urlPath: String
        /// Checksums the body gave, with their field paths.
        var checksums: [(digest: Digest, value: String, path: String)]
    }

    private let client: HTTPClient
    private let hashing: BlockingThreadPool
    private let options: Options

    init(options: Options) throws {
        self.options = options
        self.client = try HTTPClient(options: HTTPClient.Options(
            connectTimeoutMilliseconds: 5_000, connections: options.connections, name: "test-vendor-assets"))
        self.hashing = BlockingThreadPool(name: "test-vendor-hash", threads: 2)
    }

    deinit {
        hashing.shutdown()
    }

    /// Fetches and checks every asset in turn; any failure is a problem
    /// naming that asset's field, and the order must not be created.
    func fetch(_ requests: [Request]) async -> Result<[VendorOrder.Asset], Problems> {
        var assets: [VendorOrder.Asset] = []
        var problems: [FieldProblem] = []
        for request in requests {
            switch await fetch(request) {
            case .success(let asset): assets.append(asset)
            case .failure(let problem): problems.append(contentsOf: problem.problems)
            }
        }
        return problems.isEmpty ? .success(assets) : .failure(Problems(problems: problems))
    }

    /// Why the assets of a create were refused.
    struct Problems: Error {
        var problems: [FieldProblem]
    }

    private func fetch(_ request: Request) async -> Result<VendorOrder.Asset, Problems> {
        func refuse(_ code: FieldProblem.Code, _ message: String) -> Result<VendorOrder.Asset, Problems> {
            .failure(Problems(problems: [FieldProblem(request.urlPath, code, message)]))
        }
        guard let url = URL(string: request.url), let host = url.host else {
            return refuse(.invalid, "not a URL")
        }
        guard Self.isLoopback(host) else {
            return refuse(.notAllowed, "host \(host) is not a loopback address (the test vendor only downloads from loopback)")
        }
        let response: HTTPResponse
        do {
            response = try await client.perform(PressroomHTTP.HTTPRequest(
                method: "GET", url: request.url, timeout: options.timeout, maxResponseBytes: options.maxBytes))
        } catch let error as HTTPClientError {
            return refuse(.downloadFailed, "download failed: \(error.code): \(error.message)")
        } catch {
            return refuse(.downloadFailed, "download failed: \(error)")
        }
        guard response.status == 200 else {
            return refuse(.downloadFailed, "download failed: HTTP \(response.status)")
        }
        let body = response.body
        let digests: (sha256: String, md5: String)
        do {
            digests = try await hashing.run {
                (Data(SHA256.hash(data: body)).hex, Data(Insecure.MD5.hash(data: body)).hex)
            }
        } catch {
            return refuse(.downloadFailed, "could not hash the download")
        }
        var problems: [FieldProblem] = []
        for checksum in request.checksums {
            guard let expected = checksum.digest.normalize(checksum.value) else {
                problems.append(FieldProblem(checksum.path, .invalid, "not a \(checksum.digest.rawValue) digest (hex or base64)"))
                continue
            }
            let actual = checksum.digest == .sha256 ? digests.sha256 : digests.md5
            if expected != actual {
                problems.append(FieldProblem(
                    checksum.path, .checksumMismatch,
                    "\(checksum.digest.rawValue) of the downloaded asset (\(body.count) bytes) is \(actual), not \(expected)"))
            }
        }
        if !problems.isEmpty { return .failure(Problems(problems: problems)) }
        return .success(VendorOrder.Asset(
            url: request.url, downloaded: true, bytes: body.count, sha256: digests.sha256, md5: digests.md5,
            checksumOK: request.checksums.isEmpty ? nil : true))
    }

    /// `localhost`, 127.0.0.0/8 and ::1. Names are not resolved: a name
    /// that happens to resolve to loopback is still refused.
    static func isLoopback(_ host: String) -> Bool {
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        if bare.lowercased() == "localhost" || bare == "::1" || bare == "0:0:0:0:0:0:0:1" { return true }
        let parts = bare.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts.allSatisfy({ !$0.isEmpty && $0.count <= 3 && $0.allSatisfy({ $0.isASCII && $0.isNumber }) && Int($0)! <= 255 }) else {
            return false
        }
        return parts[0] == "127"
    }
}
