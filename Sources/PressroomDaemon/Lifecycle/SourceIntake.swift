import Foundation
import PressroomImaging
import PressroomQueue
import PressroomStorage

/// What derive and render do before decoding a source and around writing
/// its outputs: the size check by HEAD before any download, the shop's
/// quota, the malware scan, and the write lease that keeps an erase and a
/// running job from leaving outputs of an erased upload behind.
struct SourceIntake: Sendable {
    let store: any ObjectStore
    let settings: ImagingSettings
    let ledger: UploadLedger
    let scan: ScanGate?
    let quota: QuotaGate?

    /// Optional payload fields every image job may carry.
    struct Meta: Decodable {
        /// The shop (tenant) the job is for: quotas and erasure by customer.
        var shop: String?
        /// The shop's customer id, so an erase can name the customer instead of each upload.
        var customer: String?
        /// The order a render is for: its cost is charged to the order.
        var order: String?
    }

    /// A source that passed every check, with a write lease on its outputs: its bytes
    /// (`Data`, for derive) or the file they were spooled to (``SourceSpool/Filled``, for render).
    struct Admitted<Content: Sendable>: Sendable {
        let source: String
        let content: Content
        let sha256: String
        let writer: UploadLedger.Writer
    }

    static func meta(of job: Job) throws -> Meta {
        let meta = try job.decodePayload(Meta.self)
        if let customer = meta.customer, !QuotaGate.isValidShop(customer) {
            throw JobError.permanent("payload.customer must be 1-64 of A-Z a-z 0-9 . _ -")
        }
        if let order = meta.order, !QuotaGate.isValidShop(order) {
            throw JobError.permanent("payload.order must be 1-64 of A-Z a-z 0-9 . _ -")
        }
        return meta
    }

    /// Admits `key` read into memory.
    func admit(_ context: JobContext, source key: String) async throws -> Admitted<Data> {
        try await admit(context, source: key) { source in
            let data = try await store.readSource(source)
            try checkSize(Int64(data.count), source)
            let sha = Imaging.sha256(data)
            try await scan?.check(source: source, data: data, sha256: sha, context: context)
            return (data, sha, Int64(data.count))
        }
    }

    /// Admits `key` streamed into `spool` (the size cap enforced as the bytes arrive, hashed as
    /// they are written): the scan reads the file, and so does the decode after it.
    func admit(_ context: JobContext, source key: String, spooledTo spool: SourceSpool) async throws -> Admitted<SourceSpool.Filled> {
        try await admit(context, source: key) { source in
            let filled = try await spool.fill(from: store, key: source, maxBytes: Int64(settings.maxBytes))
            try checkSize(filled.byteCount, source)
            try await scan?.check(source: source, file: filled.file, byteCount: filled.byteCount, sha256: filled.sha256, context: context)
            return (filled, filled.sha256, filled.byteCount)
        }
    }

    /// The checks every source goes through, around `read`, which fetches and scans it and
    /// returns it with its SHA-256 (hex) and byte count.
    private func admit<Content: Sendable>(
        _ context: JobContext, source key: String,
        read: (String) async throws -> (content: Content, sha256: String, bytes: Int64)
    ) async throws -> Admitted<Content> {
        let source = try settings.checkSource(key)
        let meta = try Self.meta(of: context.job)
        let shop = try QuotaGate.shop(in: context.job.payload)
        // HEAD first: an oversized or missing source is refused before a byte is downloaded.
        let head: ObjectMetadata?
        do {
            head = try await store.head(source)
        } catch {
            throw JobFailure.classify(error, while: "checking \(source)")
        }
        guard let head else { throw JobError.permanent("source object '\(source)' does not exist") }
        try checkSize(head.size, source)
        try await quota?.admit(context.job, shop: shop, bytes: head.size)
        if let scan, let sha = head.checksumSHA256.flatMap(Self.hex(base64:)) {
            try await scan.refuseKnownInfected(source: source, sha256: sha, context: context)
        }
        let (content, sha, bytes) = try await read(source)
        let writer = try await ledger.beginWrite(upload: source, sha256: sha, bytes: bytes, shop: shop,
                                                 customer: shop == nil ? nil : meta.customer,
                                                 queue: UploadEraser.jobRecordQueue(context.job), jobID: context.job.id)
        return Admitted(source: source, content: content, sha256: sha, writer: writer)
    }

    private func checkSize(_ size: Int64, _ source: String) throws {
        if size > Int64(settings.maxBytes) {
            throw JobError.permanent("source '\(source)' is \(size) bytes, more than imaging.maxBytes (\(settings.maxBytes)); it was not downloaded")
        }
    }

    /// One output to store create-only: bytes in memory, or a file (a spooled master).
    struct Output: Sendable {
        enum Body: Sendable {
            case data(Data)
            /// A file and, when known (hashed as it was written), its SHA-256 in hex: the store then skips its own pass.
            case file(URL, byteCount: Int, sha256: String?)
        }

        var key: String
        var body: Body
        var contentType: String

        init(key: String, data: Data, contentType: String) {
            self.init(key: key, body: .data(data), contentType: contentType)
        }

        init(key: String, body: Body, contentType: String) {
            self.key = key
            self.body = body
            self.contentType = contentType
        }

        var byteCount: Int {
            switch body {
            case .data(let data): data.count
            case .file(_, let byteCount, _): byteCount
            }
        }
    }

    /// Names the outputs in the upload's record, writes them, and ends the
    /// lease. If the upload was erased meanwhile, deletes what it wrote and
    /// fails permanently: an erase never loses a race to a writer.
    func store<Content>(_ admitted: Admitted<Content>, _ outputs: [Output], stamp: String? = nil) async throws -> [PutOutcome] {
        do {
            try await ledger.register(admitted.writer, outputs: outputs.map(\.key))
        } catch {
            await ledger.abandon(admitted.writer)
            throw error
        }
        var outcomes: [PutOutcome] = []
        var written: Int64 = 0
        do {
            for output in outputs {
                let outcome: PutOutcome
                do {
                    switch output.body {
                    case .data(let data): outcome = try await store.putIfAbsent(output.key, data: data, contentType: output.contentType)
                    case .file(let file, _, let sha256): outcome = try await store.putIfAbsent(output.key, file: file, contentType: output.contentType, sha256: sha256)
                    }
                } catch {
                    throw JobFailure.classify(error, while: "storing \(output.key)")
                }
                outcomes.append(outcome)
                if outcome == .created { written += Int64(output.byteCount) }
            }
        } catch {
            _ = try? await finish(admitted, written: written, keys: outputs.map(\.key), stamp: nil)
            throw error
        }
        try await finish(admitted, written: written, keys: outputs.map(\.key), stamp: stamp)
        return outcomes
    }

    /// Ends a lease without outputs (the job failed before writing anything).
    func release<Content>(_ admitted: Admitted<Content>) async {
        await ledger.abandon(admitted.writer)
    }

    private func finish<Content>(_ admitted: Admitted<Content>, written: Int64, keys: [String], stamp: String?) async throws {
        let erased: Bool
        do {
            erased = try await ledger.finish(admitted.writer, bytesWritten: written, stamp: stamp)
        } catch {
            throw JobError.transient("ending the write lease of \(admitted.source): \(error)")
        }
        guard erased else { return }
        // The erase may have deleted these before they landed: delete them again.
        do {
            _ = try await store.delete(keys: keys)
        } catch {
            throw JobFailure.classify(error, while: "removing outputs of erased source \(admitted.source)")
        }
        throw JobError.permanent("source '\(admitted.source)' was erased while it was processed; its outputs were removed")
    }

    /// `x-amz-checksum-sha256` (base64) as the hex the keys use.
    static func hex(base64: String) -> String? {
        guard let data = Data(base64Encoded: base64), data.count == 32 else { return nil }
        return data.map { String(format: "%02x", $0) }.joined()
    }
}
