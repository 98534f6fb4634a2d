import Crypto
import Foundation
import Logging
import PressroomHTTP
import PressroomSupport

/// A built-in print vendor that keeps its orders in a local folder, so the
/// quick start and the demo need no vendor account.
///
/// `submit` fetches the ticket's masters (presigned http(s) URLs through
/// PressroomHTTP, or `file://` URLs under `sandbox.allowedRoots` only) into
/// `<folder>/<key>/`, then writes `<folder>/<key>.json` create-only (a
/// hard link of a complete temporary file, so nobody ever reads half a
/// ticket). That file is the vendor's record: a second submit with the same
/// key returns its order; a different ticket under the same key is refused
/// like a strict vendor's 422. So however often it is called — after a
/// simulated outage, a lost answer, a crash — there is one order per key.
///
/// Later status updates (in production, shipped) are computed from the
/// file's creation time, so `status` (and thus reconcile) answers from the
/// folder, and are also pushed as signed `vendor-event` jobs through
/// `deliver`, which the daemon wires to the queue.
public struct SandboxAdapter: VendorAdapter {
    /// A webhook the sandbox sends: a `vendor-event` job due at `notBefore`.
    public struct StatusUpdate: Sendable, Equatable {
        /// Deterministic (`sandbox:<key>:<status>`), so a repeated schedule is one job.
        public var jobID: String
        /// The `vendor-event` payload: `{vendor, body, headers}`.
        public var payload: String
        public var notBefore: Date
    }

    public typealias Deliver = @Sendable (StatusUpdate) async throws -> Void

    public let name: String
    public let configuration: VendorConfiguration
    let settings: VendorConfiguration.Sandbox
    let http: VendorHTTP
    let deliver: Deliver?
    let folder: String
    let roots: [String]
    /// File work (copies, hashing, create-only writes) stays off the cooperative pool.
    let pool: BlockingThreadPool
    public var createIsIdempotent: Bool { true }

    public init(name: String, http: VendorHTTP, configuration: VendorConfiguration, deliver: Deliver?) {
        self.name = name
        self.http = http
        self.configuration = configuration
        self.settings = configuration.sandbox ?? VendorConfiguration.Sandbox(folder: "var/sandbox-vendor")
        self.deliver = deliver
        self.folder = Self.absolute(settings.folder)
        self.roots = settings.allowedRoots.map { URL(fileURLWithPath: Self.absolute($0)).resolvingSymlinksInPath().path }
        self.pool = BlockingThreadPool(name: "sandbox-\(name)", threads: 2)
    }

    /// `path` made absolute against the working directory (as the daemon resolves it).
    public static func absolute(_ path: String) -> String {
        URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)).standardizedFileURL.path
    }

    /// What `<key>.json` holds.
    struct Record: Codable {
        struct Master: Codable {
            /// Relative to the sandbox folder.
            var file: String
            var sha256: String
            var bytes: Int64
        }
        var vendorOrderId: String
        var key: String
        var createdAtMs: Int64
        var ticketSHA256: String
        /// The generic vendor's ticket document (recipient included: this is the vendor's copy).
        var ticket: String
        var masters: [Master]
    }

    static func vendorOrderID(key: String) -> String {
        "sbx-" + SHA256.hash(data: Data(key.utf8)).prefix(6).hexString
    }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 { digest.hexString }

    func path(key: String) -> String { folder + "/" + key + ".json" }

    public func submit(_ ticket: PrintTicket, resume: Bool, logger: Logger) async throws -> VendorOrder {
        guard !ticket.key.isEmpty, ticket.key.count <= 64, ticket.key.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
            throw VendorCallError(.rejected, vendor: name, httpStatus: 400, message: "key must be 1-64 characters of [0-9A-Za-z_-]")
        }
        if settings.latency.duration > .zero { try await Task.sleep(for: settings.latency.duration) }
        let roll = Double.random(in: 0..<1)
        if roll < settings.failureRate / 2 {
            throw VendorCallError(.server, vendor: name, httpStatus: 503, message: "simulated outage before the order was created (sandbox.failureRate)")
        }
        let body = IdempotencyKeyAdapter.body(ticket, configuration: configuration)
        let digest = Self.hex(SHA256.hash(data: body))
        var record: Record
        var how = resume ? "replayed" : "created"
        if let existing = try await read(key: ticket.key) {
            record = existing
            how = "replayed"
        } else {
            let masters: [Record.Master]
            do {
                masters = try await fetchMasters(ticket, logger: logger)
            } catch let error as VendorCallError {
                throw error
            } catch {
                throw VendorCallError(.server, vendor: name, httpStatus: 500, message: "could not store the masters: \(error.localizedDescription)")
            }
            let fresh = Record(vendorOrderId: Self.vendorOrderID(key: ticket.key), key: ticket.key, createdAtMs: Int64(Date().timeIntervalSince1970 * 1000),
                               ticketSHA256: digest, ticket: String(decoding: body, as: UTF8.self), masters: masters)
            if try await createOnly(fresh) {
                record = fresh
            } else if let raced = try await read(key: ticket.key) {
                record = raced
                how = "replayed"
            } else {
                throw VendorCallError(.server, vendor: name, httpStatus: 500, message: "ticket \(ticket.key) exists but cannot be read")
            }
        }
        guard record.ticketSHA256 == digest else {
            logger.error("BUG: sandbox vendor says our key was reused with a different ticket; the request body must be deterministic per order",
                         metadata: ["vendor": "\(name)", "key": "\(ticket.key)"])
            throw VendorCallError(.rejected, vendor: name, httpStatus: 422, message: "idempotency key reused with a different payload")
        }
        if roll < settings.failureRate {
            throw VendorCallError(.noAnswer, vendor: name, message: "simulated lost answer after the order was created (sandbox.failureRate)")
        }
        await scheduleUpdates(record, logger: logger)
        return order(record, how: how)
    }

    public func status(vendorOrderID: String, key: String, logger: Logger) async throws -> VendorOrder? {
        guard let record = try await read(key: key), record.vendorOrderId == vendorOrderID else { return nil }
        return order(record, how: "looked up")
    }

    public func event(from body: Data) throws -> VendorEvent? {
        try IdempotencyKeyAdapter.event(from: body, vendor: name)
    }

    // MARK: simulated progress

    /// The statuses this order reaches, with when (ms since the epoch).
    func schedule(_ record: Record) -> [(status: VendorOrder.Status, atMs: Int64)] {
        var steps: [(VendorOrder.Status, Int64)] = []
        if let after = settings.inProductionAfter { steps.append((.inProduction, record.createdAtMs + after.duration.milliseconds)) }
        if let after = settings.shippedAfter { steps.append((.shipped, record.createdAtMs + after.duration.milliseconds)) }
        return steps
    }

    func shipment(_ record: Record) -> VendorOrder.Shipment {
        let number = "SBX" + record.vendorOrderId.dropFirst(4).uppercased()
        return .init(carrier: settings.carrier, trackingNumber: number, trackingURL: "https://tracking.sandbox.invalid/" + number)
    }

    func order(_ record: Record, how: String, now: Int64 = Int64(Date().timeIntervalSince1970 * 1000)) -> VendorOrder {
        let reached = schedule(record).last { $0.atMs <= now }?.status ?? .accepted
        return VendorOrder(id: record.vendorOrderId, status: reached, shipment: reached == .shipped ? shipment(record) : nil, how: how)
    }

    /// Queues the signed webhooks of the steps still ahead. A failure is only
    /// logged: `status` answers from the folder, so reconcile still finds them.
    func scheduleUpdates(_ record: Record, logger: Logger) async {
        guard let deliver, let webhooks = configuration.webhooks else { return }
        let verifier = WebhookVerifier(vendor: name, settings: webhooks)
        for step in schedule(record) {
            var order: [String: Any] = ["id": record.vendorOrderId, "idempotencyKey": record.key, "status": step.status.rawValue]
            if step.status == .shipped {
                let s = shipment(record)
                order["shipment"] = ["carrier": s.carrier ?? "", "trackingNumber": s.trackingNumber ?? "", "trackingUrl": s.trackingURL ?? ""]
            }
            let body = (try? JSONSerialization.data(withJSONObject: ["type": "order.\(step.status.rawValue)", "order": order], options: [.sortedKeys])) ?? Data()
            let at = Date(timeIntervalSince1970: Double(step.atMs) / 1000)
            let payload: [String: Any] = ["vendor": name, "body": String(decoding: body, as: UTF8.self),
                                          "headers": verifier.signedHeaders(body: body, now: at)]
            let text = String(decoding: (try? JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys])) ?? Data(), as: UTF8.self)
            do {
                try await deliver(StatusUpdate(jobID: "sandbox:\(record.key):\(step.status.rawValue)", payload: text, notBefore: at))
            } catch {
                logger.warning("sandbox vendor could not queue a status update; reconcile will find it", metadata: [
                    "vendor": "\(name)", "vendor_order_id": "\(record.vendorOrderId)", "status": "\(step.status.rawValue)", "error": "\(error)"])
            }
        }
    }

    // MARK: the folder

    func read(key: String) async throws -> Record? {
        let path = self.path(key: key)
        let data: Data? = try await pool.run {
            guard FileManager.default.fileExists(atPath: path) else { return nil }
            return try Data(contentsOf: URL(fileURLWithPath: path))
        }
        guard let data else { return nil }
        do {
            return try JSONDecoder().decode(Record.self, from: data)
        } catch {
            throw VendorCallError(.badResponse, vendor: name, message: "ticket file for \(key) is not readable: \(error)")
        }
    }

    /// Writes the record unless one exists; `false` when another call won.
    func createOnly(_ record: Record) async throws -> Bool {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        let data = try encoder.encode(record)
        let folder = self.folder, final = path(key: record.key), vendor = name
        return try await pool.run {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let temp = folder + "/.\(record.key).\(UUID().uuidString).tmp"
            try data.write(to: URL(fileURLWithPath: temp))
            defer { unlink(temp) }
            if link(temp, final) == 0 { return true }
            if errno == EEXIST { return false }
            throw VendorCallError(.server, vendor: vendor, httpStatus: 500, message: "cannot write the ticket: \(String(cString: strerror(errno)))")
        }
    }

    /// Copies every line's master into `<key>/`, checking its checksum.
    func fetchMasters(_ ticket: PrintTicket, logger: Logger) async throws -> [Record.Master] {
        let directory = folder + "/" + ticket.key
        try await pool.run { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        var masters: [Record.Master] = []
        for (index, line) in ticket.lines.enumerated() {
            guard let url = URL(string: line.asset.url), let scheme = url.scheme?.lowercased() else {
                throw VendorCallError(.rejected, vendor: name, httpStatus: 400, message: "items[\(index)]: the asset URL is not a URL")
            }
            let ext = url.pathExtension.isEmpty || url.pathExtension.count > 5 ? "bin" : url.pathExtension.lowercased()
            let relative = ticket.key + "/item-\(index + 1).\(ext)"
            let final = folder + "/" + relative
            let temp = final + ".\(UUID().uuidString).part"
            switch scheme {
            case "file":
                let source = try allowedFile(url, index: index)
                try await pool.run {
                    defer { unlink(temp) }
                    try FileManager.default.copyItem(atPath: source, toPath: temp)
                    try Self.replace(temp, final)
                }
            case "http", "https":
                var request = HTTPRequest(method: "GET", url: line.asset.url, sink: .file(path: temp), timeout: nil)
                request.allowsResend = true
                let response: HTTPResponse
                do {
                    response = try await http.client.perform(request)
                } catch let error as HTTPClientError {
                    unlink(temp)
                    throw VendorCallError(.server, vendor: name, httpStatus: 502, message: "items[\(index)]: could not download the master (\(error.code))")
                }
                guard (200..<300).contains(response.status) else {
                    unlink(temp)
                    throw VendorCallError(.rejected, vendor: name, httpStatus: 400, message: "items[\(index)]: downloading the master answered HTTP \(response.status)")
                }
                try await pool.run {
                    defer { unlink(temp) }
                    try Self.replace(temp, final)
                }
            default:
                throw VendorCallError(.rejected, vendor: name, httpStatus: 400, message: "items[\(index)]: asset URL scheme '\(scheme)' is not http(s) or file")
            }
            let (sha256, bytes) = try await pool.run { try Self.sha256(of: final) }
            if let expected = line.asset.sha256, expected.lowercased() != sha256 {
                throw VendorCallError(.rejected, vendor: name, httpStatus: 422, message: "items[\(index)]: the master's SHA-256 does not match the ticket's")
            }
            masters.append(.init(file: relative, sha256: sha256, bytes: bytes))
        }
        logger.debug("sandbox vendor fetched masters", metadata: ["vendor": "\(name)", "key": "\(ticket.key)", "count": "\(masters.count)"])
        return masters
    }

    /// The local path of a `file://` master, only below an allowed root.
    func allowedFile(_ url: URL, index: Int) throws -> String {
        guard url.host == nil || url.host == "" || url.host == "localhost" else {
            throw VendorCallError(.rejected, vendor: name, httpStatus: 400, message: "items[\(index)]: file:// URLs with a host are refused")
        }
        let resolved = url.standardizedFileURL.resolvingSymlinksInPath().path
        guard roots.contains(where: { resolved.hasPrefix($0.hasSuffix("/") ? $0 : $0 + "/") }) else {
            throw VendorCallError(.rejected, vendor: name, httpStatus: 403,
                                  message: "items[\(index)]: file:// masters are read only under sandbox.allowedRoots (\(settings.allowedRoots.joined(separator: ", ")))")
        }
        return resolved
    }

    static func replace(_ temp: String, _ final: String) throws {
        guard rename(temp, final) == 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: final]) }
    }

    static func sha256(of path: String) throws -> (String, Int64) {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: path]) }
        defer { try? handle.close() }
        var hasher = SHA256()
        var bytes: Int64 = 0
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            hasher.update(data: chunk)
            bytes += Int64(chunk.count)
        }
        return (hex(hasher.finalize()), bytes)
    }
}
