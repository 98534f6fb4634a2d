import Crypto
import Foundation
import Logging
import PressroomHTTP
import PressroomSupport

/// ``ObjectStore`` on S3 or any S3-compatible server, over libcurl with
/// SigV4 signing done here.
///
/// Writes are create-only and verified: `If-None-Match: *` with the SHA-256
/// in `x-amz-checksum-sha256` (checked by the server) and in
/// `x-amz-meta-pressroom-sha256` (kept for multipart objects too, whose S3
/// checksum is a composite of the parts' CRC-32s, each part also signed
/// with its SHA-256). A 412 is resolved by comparing
/// checksums, so a retried write of the same bytes succeeds.
public final class S3ObjectStore: ObjectStore {
    public let configuration: S3Configuration
    private let signer: SigV4Signer
    private let transport: HTTPClient
    /// Reading and hashing parts is blocking I/O too; kept apart from the
    /// curl threads so hashing never holds a connection.
    private let ioPool: BlockingThreadPool
    private let logger: Logger
    private let baseURL: String
    private let host: String
    private let basePath: String

    static let checksumMetadataHeader = "x-amz-meta-pressroom-sha256"

    public init(configuration: S3Configuration, logger: Logger, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        try configuration.validate()
        self.configuration = configuration
        self.logger = logger
        let credentials = try S3CredentialsResolver.resolve(configuration, environment: environment)
        self.signer = SigV4Signer(credentials: credentials, region: configuration.region, service: "s3")
        let endpoint = URL(string: configuration.endpoint)!
        let scheme = endpoint.scheme!
        var authority = endpoint.host!
        if let port = endpoint.port, !(scheme == "http" && port == 80), !(scheme == "https" && port == 443) {
            authority += ":\(port)"
        }
        switch configuration.addressingStyle {
        case .path:
            host = authority
            basePath = "/" + configuration.bucket
        case .virtualHosted:
            host = configuration.bucket + "." + authority
            basePath = ""
        }
        baseURL = "\(scheme)://\(host)"
        transport = try HTTPClient(
            options: .init(
                connectTimeoutMilliseconds: Int(configuration.connectTimeoutSeconds * 1000),
                lowSpeedLimitBytesPerSecond: configuration.lowSpeedLimitBytesPerSecond,
                lowSpeedTimeSeconds: configuration.lowSpeedTimeSeconds,
                connections: configuration.connections,
                name: "pressroom-s3"
            )
        )
        ioPool = BlockingThreadPool(name: "pressroom-s3-io", threads: 2)
    }

    deinit {
        ioPool.shutdown()
    }

    // MARK: Reads

    public func get(_ key: String) async throws -> Data {
        try ObjectKey.validate(key)
        let response = try await send(
            "GET", key: key, headers: [("x-amz-checksum-mode", "ENABLED")], hashResponse: true, verify: { try Self.verify($0, key: key) }
        )
        return response.body
    }

    /// libcurl writes the body into the file and hashes it as it arrives, and gives up on the
    /// first chunk past `maxBytes`.
    public func get(_ key: String, toFile file: URL, maxBytes: Int64?) async throws -> ObjectMetadata {
        try ObjectKey.validate(key)
        let response = try await send(
            "GET", key: key, headers: [("x-amz-checksum-mode", "ENABLED")], sink: .file(path: file.path), hashResponse: true,
            maxResponseBytes: maxBytes.map { Int(clamping: $0) }, verify: { try Self.verify($0, key: key) }
        )
        var metadata = metadata(key: key, response: response)
        metadata.size = response.bodyLength
        metadata.checksumSHA256 = response.bodySHA256 ?? metadata.checksumSHA256
        return metadata
    }

    public func head(_ key: String) async throws -> ObjectMetadata? {
        try ObjectKey.validate(key)
        do {
            let response = try await send("HEAD", key: key, headers: [("x-amz-checksum-mode", "ENABLED")])
            return metadata(key: key, response: response)
        } catch let error as ObjectStoreError where error.code == .notFound && error.serverCode != "NoSuchBucket" {
            return nil
        }
    }

    public func list(prefix: String, limit: Int?) async throws -> [ObjectMetadata] {
        try await list(prefix: prefix, limit: limit, pageSize: 1000)
    }

    /// ListObjectsV2, following continuation tokens; `pageSize` is `max-keys` per request.
    public func list(prefix: String, limit: Int?, pageSize: Int) async throws -> [ObjectMetadata] {
        var result: [ObjectMetadata] = []
        var token: String?
        repeat {
            let remaining = limit.map { $0 - result.count } ?? Int.max
            if remaining <= 0 { break }
            var query: [(name: String, value: String)] = [("list-type", "2"), ("prefix", prefix), ("max-keys", String(min(pageSize, remaining)))]
            if let token { query.append(("continuation-token", token)) }
            let response = try await send("GET", key: nil, query: query)
            guard let root = S3XMLNode.parse(response.body), root.name == "ListBucketResult" else {
                throw ObjectStoreError(.transient, "ListObjectsV2 \(configuration.bucket): unreadable response", httpStatus: response.status)
            }
            for item in root.all("Contents") {
                guard let key = item.value("Key") else { continue }
                result.append(
                    ObjectMetadata(
                        key: key, size: Int64(item.value("Size") ?? "") ?? 0,
                        lastModified: item.value("LastModified").flatMap(Self.parseISODate)
                    )
                )
            }
            token = root.value("IsTruncated") == "true" ? root.value("NextContinuationToken") : nil
        } while token != nil
        return limit.map { Array(result.prefix($0)) } ?? result
    }

    /// ListObjectsV2 from `start-after` the cursor: one request a page (at most 1000 keys).
    public func listPage(prefix: String, after cursor: String?, limit: Int) async throws -> ObjectListPage {
        var query: [(name: String, value: String)] = [("list-type", "2"), ("prefix", prefix), ("max-keys", String(max(1, min(limit, 1000))))]
        if let cursor { query.append(("start-after", cursor)) }
        let response = try await send("GET", key: nil, query: query)
        guard let root = S3XMLNode.parse(response.body), root.name == "ListBucketResult" else {
            throw ObjectStoreError(.transient, "ListObjectsV2 \(configuration.bucket): unreadable response", httpStatus: response.status)
        }
        let objects = root.all("Contents").compactMap { item -> ObjectMetadata? in
            guard let key = item.value("Key") else { return nil }
            return ObjectMetadata(key: key, size: Int64(item.value("Size") ?? "") ?? 0,
                                  lastModified: item.value("LastModified").flatMap(Self.parseISODate))
        }
        return ObjectListPage(objects: objects, next: root.value("IsTruncated") == "true" ? objects.last?.key : nil)
    }

    // MARK: Writes

    public func putIfAbsent(_ key: String, data: Data, contentType: String) async throws -> PutOutcome {
        try ObjectKey.validate(key)
        let source = S3PartSource.data(data)
        let size = Int64(data.count)
        let whole = (offset: Int64(0), length: size)
        if size >= configuration.multipartThresholdBytes {
            return try await multipartPut(key, source: source, size: size, given: nil, contentType: contentType)
        }
        // Small bodies are hashed in place; a large one off the cooperative pool.
        let digest = data.count < 1 << 20 ? Data(try source.digest(whole)) : try await ioPool.run { Data(try source.digest(whole)) }
        return try await singlePut(key, body: source.body(whole), digest: digest, contentType: contentType)
    }

    /// Without `sha256`, a multipart upload is created only once the file is
    /// hashed: S3 takes metadata only then, and the whole-object SHA-256 is
    /// that metadata. With it, parts start at once and the file is checked
    /// against the digest while they upload, before the upload is completed.
    /// A single PUT sends a given digest as `x-amz-checksum-sha256`, which
    /// S3 checks against the body.
    public func putIfAbsent(_ key: String, file: URL, contentType: String, sha256: String?) async throws -> PutOutcome {
        try ObjectKey.validate(key)
        let given = try sha256.map(KnownSHA256.digest(hex:))
        let path = file.path
        let source = S3PartSource.file(path: path)
        let size = try await ioPool.run {
            do {
                return (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value ?? 0
            } catch {
                throw ObjectStoreError(.io, "cannot read \(path): \(error.localizedDescription)")
            }
        }
        let whole = (offset: Int64(0), length: size)
        let ioPool = self.ioPool
        @Sendable func digest() async throws -> Data {
            if let given { return given }
            return try await ioPool.run { Data(try source.digest(whole)) }
        }
        if size >= configuration.multipartThresholdBytes {
            return try await multipartPut(key, source: source, size: size, given: given, contentType: contentType)
        }
        return try await singlePut(key, body: source.body(whole), digest: try await digest(), contentType: contentType)
    }

    public func delete(_ key: String) async throws {
        try ObjectKey.validate(key)
        do {
            _ = try await send("DELETE", key: key)
        } catch let error as ObjectStoreError where error.code == .notFound && error.serverCode == "NoSuchKey" {
            return
        }
    }

    /// DeleteObjects in batches of 1000; returns the keys the server refused, with its reason.
    @discardableResult
    public func delete(keys: [String]) async throws -> [String: String] {
        for key in keys { try ObjectKey.validate(key) }
        var failures: [String: String] = [:]
        for start in stride(from: 0, to: keys.count, by: 1000) {
            let batch = keys[start..<min(start + 1000, keys.count)]
            let xml = "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>true</Quiet>"
                + batch.map { "<Object><Key>\($0.xmlEscaped)</Key></Object>" }.joined() + "</Delete>"
            let body = Data(xml.utf8)
            let response = try await send(
                "POST", key: nil, query: [("delete", "")],
                headers: [
                    ("Content-Type", "application/xml"),
                    ("Content-MD5", Data(Insecure.MD5.hash(data: body)).base64EncodedString()),
                    ("x-amz-checksum-sha256", Data(SHA256.hash(data: body)).base64EncodedString()),
                ],
                body: .data(body)
            )
            if let root = S3XMLNode.parse(response.body) {
                for error in root.all("Error") {
                    failures[error.value("Key") ?? "?"] = "\(error.value("Code") ?? ""): \(error.value("Message") ?? "")"
                }
            }
        }
        return failures
    }

    /// CopyObject (server side, metadata kept), after a HEAD of the
    /// destination: S3 has no create-only copy, and the destinations this
    /// is for (quarantine) are written by this path only.
    public func copyIfAbsent(from source: String, to destination: String) async throws -> PutOutcome {
        try ObjectKey.validate(source)
        try ObjectKey.validate(destination)
        guard let original = try await head(source) else {
            throw ObjectStoreError(.notFound, "copy \(source): no such object")
        }
        if let existing = try await head(destination) {
            if existing.checksumSHA256 != nil, existing.checksumSHA256 == original.checksumSHA256 { return .alreadyExists }
            if existing.checksumSHA256 == nil, existing.size == original.size { return .alreadyExists }
            throw ObjectStoreError(.conflict, "object \(destination) already exists with different content")
        }
        let copySource = SigV4Encoding.encodePath("/" + configuration.bucket + "/" + source)
        let response = try await send("PUT", key: destination, headers: [("x-amz-copy-source", copySource)])
        // CopyObject may answer 200 and report the failure in the body.
        if let root = S3XMLNode.parse(response.body), root.name == "Error" {
            throw error(from: root, status: response.status, operation: "CopyObject", key: destination, retryAfter: nil)
        }
        return .created
    }

    /// PutObjectTagging (replaces the tag set; S3 allows 10 tags per object).
    public func setTags(_ key: String, _ tags: [String: String]) async throws {
        try ObjectKey.validate(key)
        let xml = "<Tagging xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><TagSet>"
            + tags.sorted { $0.key < $1.key }.map { "<Tag><Key>\($0.key.xmlEscaped)</Key><Value>\($0.value.xmlEscaped)</Value></Tag>" }.joined()
            + "</TagSet></Tagging>"
        let body = Data(xml.utf8)
        _ = try await send(
            "PUT", key: key, query: [("tagging", "")],
            headers: [("Content-Type", "application/xml"), ("Content-MD5", Data(Insecure.MD5.hash(data: body)).base64EncodedString())],
            body: .data(body))
    }

    /// GetObjectTagging.
    public func tags(_ key: String) async throws -> [String: String] {
        try ObjectKey.validate(key)
        let response = try await send("GET", key: key, query: [("tagging", "")])
        guard let root = S3XMLNode.parse(response.body) else { return [:] }
        var tags: [String: String] = [:]
        for tag in root.child("TagSet")?.all("Tag") ?? [] {
            if let name = tag.value("Key") { tags[name] = tag.value("Value") ?? "" }
        }
        return tags
    }

    // MARK: Presigning

    public func presignedURL(for key: String, method: PresignMethod, expiresIn: Duration) async throws -> URL {
        try ObjectKey.validate(key)
        let seconds = Int(expiresIn.components.seconds)
        guard (1...604_800).contains(seconds) else {
            throw ObjectStoreError(.badRequest, "presigned URL expiry must be between 1 second and 7 days, not \(seconds) s")
        }
        let request = SigV4Request(method: method.rawValue, path: basePath + "/" + key, headers: [("Host", host)])
        let signed = signer.presign(request, expires: seconds, date: Date()).signedRequest
        guard let url = URL(string: baseURL + signed.encodedPath + "?" + signed.encodedQuery) else {
            throw ObjectStoreError(.invalidKey, "cannot build a URL for key \(key)")
        }
        return url
    }

    // MARK: Multipart housekeeping

    /// Multipart uploads begun and neither completed nor aborted (orphans cost storage).
    public func listMultipartUploads(prefix: String) async throws -> [(key: String, uploadID: String)] {
        let response = try await send("GET", key: nil, query: [("uploads", ""), ("prefix", prefix)])
        guard let root = S3XMLNode.parse(response.body) else { return [] }
        return root.all("Upload").compactMap { upload in
            guard let key = upload.value("Key"), let id = upload.value("UploadId") else { return nil }
            return (key, id)
        }
    }

    public func abortMultipartUpload(key: String, uploadID: String) async throws {
        do {
            _ = try await send("DELETE", key: key, query: [("uploadId", uploadID)])
        } catch let error as ObjectStoreError where error.code == .notFound {
            return
        }
    }

    // MARK: Put internals

    private func singlePut(_ key: String, body: HTTPRequest.Body, digest: Data, contentType: String) async throws -> PutOutcome {
        let checksum = digest.base64EncodedString()
        do {
            _ = try await send(
                "PUT", key: key,
                headers: [
                    ("Content-Type", contentType),
                    ("If-None-Match", "*"),
                    ("x-amz-checksum-sha256", checksum),
                    (Self.checksumMetadataHeader, checksum),
                ],
                body: body, payloadHash: digest.hexString
            )
            return .created
        } catch let error as ObjectStoreError where error.httpStatus == 412 {
            return try await resolveExisting(key, checksum: checksum)
        }
    }

    /// After a 412: the same checksum means an earlier attempt won; anything else is a conflict.
    private func resolveExisting(_ key: String, checksum: String) async throws -> PutOutcome {
        guard let existing = try await head(key) else {
            throw ObjectStoreError(.transient, "PUT \(key): precondition failed but the object is gone; retry")
        }
        if existing.checksumSHA256 == checksum {
            logger.debug("object already stored with the same checksum", metadata: ["key": "\(key)"])
            return .alreadyExists
        }
        throw ObjectStoreError(
            .conflict,
            "object \(key) already exists with different content (sha256 \(existing.checksumSHA256 ?? "unknown"), new \(checksum))",
            httpStatus: 412
        )
    }

    private func partRanges(size: Int64) -> [S3PartSource.Range] {
        var ranges: [S3PartSource.Range] = []
        var offset: Int64 = 0
        while offset < size {
            let length = min(configuration.multipartPartSizeBytes, size - offset)
            ranges.append((offset, length))
            offset += length
        }
        return ranges
    }

    /// Up to `multipartConcurrency` parts in flight, sent by offset from the
    /// source, so nothing holds more than one read buffer of the object.
    ///
    /// Both I/O threads start at once, before the first request is answered.
    /// Without a `given` digest one hashes the whole source (the upload's
    /// metadata, so nothing can be created before it) while the other
    /// checksums the first parts in one read each, so they all leave the
    /// moment the upload exists instead of one checksum after another. With
    /// one, the first parts come first and the whole-source hash that checks
    /// the digest runs behind them, beside the uploads: an upload whose bytes
    /// do not match is never completed. Each later part is checksummed while
    /// the parts before it upload. The cheap check's HEAD is in flight
    /// meanwhile, beside the create when the digest is given. Any failure
    /// aborts the upload, so no parts are left behind.
    private func multipartPut(
        _ key: String, source: S3PartSource, size: Int64, given: Data?, contentType: String
    ) async throws -> PutOutcome {
        let ranges = partRanges(size: size)
        let ioPool = self.ioPool
        // Cancelled on the way out: work still queued is dropped, not run for
        // an upload that failed.
        @Sendable func onPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) -> Task<T, Error> {
            Task { try await ioPool.runCancellable(body, onCancel: {}) }
        }
        let hashSource = { onPool { Data(try source.digest((offset: 0, length: size))) } }
        // Part i's checksums, queued once part i - lookahead is sent: ready
        // when its slot frees, and nothing is read far ahead of the uploads.
        let lookahead = configuration.multipartConcurrency
        var checksums: [Task<S3PartChecksums, Error>] = []
        func queueChecksums(before end: Int) {
            while checksums.count < min(end, ranges.count) {
                let range = ranges[checksums.count]
                checksums.append(onPool { try source.checksums(range) })
            }
        }
        // The pool is FIFO: what is queued first runs first.
        let whole: Task<Data, Error>
        if given == nil {
            whole = hashSource()
            queueChecksums(before: lookahead)
        } else {
            queueChecksums(before: lookahead)
            whole = hashSource()
        }
        defer {
            whole.cancel()
            for task in checksums { task.cancel() }
        }
        async let existing = head(key)
        let digest: Data
        if let given { digest = given } else { digest = try await whole.value }
        let checksum = digest.base64EncodedString()
        async let created = send(
            "POST", key: key, query: [("uploads", "")],
            headers: [
                ("Content-Type", contentType), (Self.checksumMetadataHeader, checksum),
                // Parts carry a CRC-32 (``S3PartChecksums``). Without an
                // algorithm moto computes a full-object CRC of its own at
                // completion (two more copies of the object); with SHA256,
                // SHA-256 composites, at twice CRC-32's cost.
                ("x-amz-checksum-algorithm", "CRC32"),
            ]
        )
        // Both answers are waited for: the create went out beside the HEAD,
        // so whatever the HEAD says, an upload it made is not left behind.
        let headResult: Result<ObjectMetadata?, any Error>
        do { headResult = .success(try await existing) } catch { headResult = .failure(error) }
        let createResult: Result<HTTPResponse, any Error>
        do { createResult = .success(try await created) } catch { createResult = .failure(error) }
        let createdID = (try? createResult.get()).flatMap { S3XMLNode.parse($0.body)?.value("UploadId") }
        switch headResult {
        case .failure(let error):
            if let createdID { await abandon(key: key, uploadID: createdID) }
            throw error
        case .success(let found?):
            // Cheap check: an identical object needs no upload at all.
            if let createdID { await abandon(key: key, uploadID: createdID) }
            if found.checksumSHA256 == checksum { return .alreadyExists }
            throw ObjectStoreError(.conflict, "object \(key) already exists with different content (sha256 \(found.checksumSHA256 ?? "unknown"), new \(checksum))")
        case .success(nil):
            break
        }
        let response = try createResult.get()
        guard let uploadID = createdID else {
            throw ObjectStoreError(.transient, "CreateMultipartUpload \(key): no UploadId in the response", httpStatus: response.status)
        }
        logger.debug("multipart upload started", metadata: ["key": "\(key)", "parts": "\(ranges.count)", "uploadId": "\(uploadID)"])
        do {
            var etags = [String](repeating: "", count: ranges.count)
            var partCRCs = [String](repeating: "", count: ranges.count)
            try await withThrowingTaskGroup(of: (index: Int, etag: String, crc32: String).self) { group in
                var inFlight = 0
                for (index, range) in ranges.enumerated() {
                    if inFlight == configuration.multipartConcurrency, let done = try await group.next() {
                        (etags[done.index], partCRCs[done.index]) = (done.etag, done.crc32)
                        inFlight -= 1
                    }
                    queueChecksums(before: index + 1 + lookahead)
                    let checksum = checksums[index]
                    group.addTask {
                        // Taken once, whatever the retries.
                        let checksums = try await withTaskCancellationHandler { try await checksum.value } onCancel: { checksum.cancel() }
                        let response = try await self.send(
                            "PUT", key: key, query: [("partNumber", String(index + 1)), ("uploadId", uploadID)],
                            headers: [("x-amz-checksum-crc32", checksums.crc32Base64)],
                            body: source.body(range), payloadHash: checksums.sha256.hexString
                        )
                        return (index, response.headers["etag"] ?? "", checksums.crc32Base64)
                    }
                    inFlight += 1
                }
                while let done = try await group.next() { (etags[done.index], partCRCs[done.index]) = (done.etag, done.crc32) }
            }
            if given != nil {
                let actual = try await whole.value
                if actual != digest { throw KnownSHA256.mismatch(key, actual: actual.base64EncodedString(), given: checksum) }
            }
            let xml = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                + etags.indices.map {
                    "<Part><PartNumber>\($0 + 1)</PartNumber><ETag>\(etags[$0].xmlEscaped)</ETag><ChecksumCRC32>\(partCRCs[$0])</ChecksumCRC32></Part>"
                }.joined()
                + "</CompleteMultipartUpload>"
            do {
                let response = try await send(
                    "POST", key: key, query: [("uploadId", uploadID)],
                    headers: [("Content-Type", "application/xml"), ("If-None-Match", "*")], body: .data(Data(xml.utf8))
                )
                // S3 may answer 200 and report the failure in the body.
                if let root = S3XMLNode.parse(response.body), root.name == "Error" {
                    throw error(from: root, status: response.status, operation: "CompleteMultipartUpload", key: key, retryAfter: nil)
                }
            } catch let error as ObjectStoreError where error.httpStatus == 412 {
                try? await abortMultipartUpload(key: key, uploadID: uploadID)
                return try await resolveExisting(key, checksum: checksum)
            } catch let error as ObjectStoreError where error.serverCode == "NoSuchUpload" {
                // A retried Complete whose first attempt succeeded but lost
                // its response: the upload is gone because the object exists.
                return try await resolveExisting(key, checksum: checksum)
            }
            return .created
        } catch {
            logger.warning("multipart upload failed; aborting it", metadata: ["key": "\(key)", "uploadId": "\(uploadID)", "error": "\(error)"])
            await abandon(key: key, uploadID: uploadID)
            throw error
        }
    }

    /// Aborts an upload that will not be completed; a failure is logged, not thrown.
    private func abandon(key: String, uploadID: String) async {
        do {
            try await abortMultipartUpload(key: key, uploadID: uploadID)
        } catch {
            logger.error("abort of failed multipart upload failed; parts remain until a lifecycle rule removes them",
                         metadata: ["key": "\(key)", "uploadId": "\(uploadID)", "error": "\(error)"])
        }
    }

    // MARK: Requests

    /// Signs and sends one request, retrying transient failures with backoff
    /// (a fresh signature and date on every attempt).
    private func send(
        _ method: String, key: String?, query: [(name: String, value: String)] = [],
        headers: [(name: String, value: String)] = [], body: HTTPRequest.Body = .none,
        payloadHash: String? = nil, sink: HTTPRequest.Sink = .memory, hashResponse: Bool = false,
        maxResponseBytes: Int? = nil, verify: ((HTTPResponse) throws -> Void)? = nil
    ) async throws -> HTTPResponse {
        let path = basePath + "/" + (key ?? "")
        let operation = "\(method) \(configuration.bucket)/\(key ?? "")"
        let hash: String
        if let payloadHash {
            hash = payloadHash
        } else if case .data(let data) = body {
            hash = SigV4Signer.hexSHA256(data)
        } else {
            hash = SigV4Signer.emptyPayloadHash
        }
        var attempt = 0
        while true {
            attempt += 1
            var request = SigV4Request(method: method, path: path, query: query, headers: headers)
            request.setHeader("Host", host)
            let signed = signer.signHeaders(request, payloadHash: hash, date: Date()).signedRequest
            var url = baseURL + signed.encodedPath
            if !signed.query.isEmpty { url += "?" + signed.encodedQuery }
            let curlRequest = HTTPRequest(
                method: method, url: url, headers: signed.headers, body: body, sink: sink, hashResponse: hashResponse,
                maxResponseBytes: maxResponseBytes
            )
            let failure: ObjectStoreError
            do {
                let response = try await transport.perform(curlRequest)
                if (200..<300).contains(response.status) {
                    // A body that fails verification (bytes damaged in
                    // transit) is retried like any transient failure.
                    try verify?(response)
                    logger.trace("S3 request done", metadata: ["op": "\(operation)", "status": "\(response.status)", "attempt": "\(attempt)"])
                    return response
                }
                failure = error(for: response, operation: operation, key: key)
            } catch let error as ObjectStoreError {
                failure = error.message.hasPrefix(operation) ? error
                    : ObjectStoreError(error.code, "\(operation): \(error.message)", serverCode: error.serverCode, httpStatus: error.httpStatus)
            } catch let error as HTTPClientError {
                failure = ObjectStoreError(error: error, operation: operation)
            }
            guard failure.isTransient, attempt < configuration.retry.maxAttempts else {
                if failure.isTransient {
                    throw ObjectStoreError(
                        failure.code, "\(failure.message) (gave up after \(attempt) attempts)",
                        serverCode: failure.serverCode, httpStatus: failure.httpStatus, retryAfter: failure.retryAfter
                    )
                }
                throw failure
            }
            let delay = configuration.retry.delay(afterAttempt: attempt, retryAfter: failure.retryAfter)
            logger.warning(
                "S3 request failed; retrying",
                metadata: ["op": "\(operation)", "attempt": "\(attempt)", "delaySeconds": "\(delay)", "error": "\(failure)"]
            )
            try await Task.sleep(for: .milliseconds(Int(delay * 1000)))
        }
    }

    /// Maps an HTTP error to a classified error with S3's code and message.
    private func error(for response: HTTPResponse, operation: String, key: String?) -> ObjectStoreError {
        let retryAfter = response.headers["retry-after"].flatMap(Self.parseRetryAfter)
        if let root = S3XMLNode.parse(response.body), root.name == "Error" {
            return error(from: root, status: response.status, operation: operation, key: key, retryAfter: retryAfter)
        }
        // HEAD responses carry no body; name the likely cause from the status.
        let serverCode: String? =
            switch response.status {
            case 404: key == nil ? "NoSuchBucket" : "NoSuchKey"
            case 403: "AccessDenied"
            case 412: "PreconditionFailed"
            default: nil
            }
        return classify(status: response.status, serverCode: serverCode, message: "\(operation): HTTP \(response.status)", retryAfter: retryAfter)
    }

    private func error(from root: S3XMLNode, status: Int, operation: String, key: String?, retryAfter: Double?) -> ObjectStoreError {
        let code = root.value("Code") ?? "Unknown"
        var message = "\(operation): \(code): \(root.value("Message") ?? "no message")"
        if let bucket = root.value("BucketName"), code == "NoSuchBucket" { message += " (bucket \(bucket))" }
        if let requestID = root.value("RequestId") { message += " [request id \(requestID)]" }
        return classify(status: status, serverCode: code, message: message, retryAfter: retryAfter)
    }

    private func classify(status: Int, serverCode: String?, message: String, retryAfter: Double?) -> ObjectStoreError {
        let code: ObjectStoreError.Code
        switch (status, serverCode ?? "") {
        case (_, "SlowDown"), (_, "RequestTimeout"), (_, "InternalError"), (_, "ServiceUnavailable"),
            (409, "ConditionalRequestConflict"), (409, "OperationAborted"), (429, _), (500...599, _):
            code = .transient
        case (_, "BadDigest"), (_, "XAmzContentSHA256Mismatch"), (_, "InvalidDigest"):
            code = .checksumMismatch
        case (404, _): code = .notFound
        case (403, _), (401, _): code = .accessDenied
        case (409, _), (412, _): code = .conflict
        default: code = .badRequest
        }
        return ObjectStoreError(code, message, serverCode: serverCode, httpStatus: status, retryAfter: retryAfter)
    }

    private static func verify(_ response: HTTPResponse, key: String) throws {
        guard let expected = storedChecksum(response.headers), let actual = response.bodySHA256 else { return }
        if expected != actual {
            throw ObjectStoreError(.checksumMismatch, "GET \(key): received bytes have sha256 \(actual), stored object has \(expected)")
        }
    }

    /// Our own metadata first (whole-object, also for multipart), then S3's
    /// checksum unless it is a composite `...-N` multipart checksum.
    private static func storedChecksum(_ headers: [String: String]) -> String? {
        if let own = headers[checksumMetadataHeader], !own.isEmpty { return own }
        if let s3 = headers["x-amz-checksum-sha256"], !s3.contains("-") { return s3 }
        return nil
    }

    private func metadata(key: String, response: HTTPResponse) -> ObjectMetadata {
        ObjectMetadata(
            key: key,
            size: Int64(response.headers["content-length"] ?? "") ?? response.bodyLength,
            contentType: response.headers["content-type"],
            checksumSHA256: Self.storedChecksum(response.headers),
            lastModified: response.headers["last-modified"].flatMap { HTTPDate.parse($0) },
            md5Hex: Self.plainMD5(etag: response.headers["etag"])
        )
    }

    /// A single-part object's ETag is the hex MD5 of its bytes; a multipart
    /// one (`…-N`) or an encrypted one is not, and gives `nil`.
    static func plainMD5(etag: String?) -> String? {
        guard let etag else { return nil }
        // `"…"` or `W/"…"`: the quotes, a weak prefix and spaces around go (by bytes, not a CharacterSet).
        let strip: Set<UInt8> = [UInt8(ascii: "\""), UInt8(ascii: "W"), UInt8(ascii: "/"), UInt8(ascii: " ")]
        let bytes = Array(etag.utf8)
        guard let start = bytes.firstIndex(where: { !strip.contains($0) }), let end = bytes.lastIndex(where: { !strip.contains($0) }) else { return nil }
        let hex = String(decoding: bytes[start...end], as: UTF8.self).lowercased()
        guard hex.utf8.count == 32, hex.allSatisfy({ $0.isHexDigit }) else { return nil }
        return hex
    }

    static func parseRetryAfter(_ value: String) -> Double? { HTTPDate.retryAfterSeconds(value) }

    static func parseISODate(_ value: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: value) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: value)
    }
}
