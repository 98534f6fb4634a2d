import Crypto
import Foundation
@testable import PressroomFulfillment
import PressroomQueue
import Synchronization
import Testing

/// The built-in sandbox vendor: real files in a temporary folder, real Redis
/// for the order record, masters from ministack through presigned URLs or
/// from a local "store" through `file://` URLs.
@Suite("sandbox vendor")
struct SandboxAdapterTests {
    /// A temporary sandbox folder and an allowed root holding real master files.
    struct Folder {
        let root: URL
        var tickets: URL { root.appendingPathComponent("tickets") }
        var objects: URL { root.appendingPathComponent("objects") }

        init() throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("sandbox-test-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: root.appendingPathComponent("objects/masters"), withIntermediateDirectories: true)
        }

        /// Writes a master and returns its asset (a file:// URL, as the filesystem store presigns).
        func master(_ name: String, bytes: Int = 4096) throws -> Asset {
            let data = Data((0..<bytes).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ name.count) })
            let url = objects.appendingPathComponent("masters/\(name)")
            try data.write(to: url)
            return Asset(url: url.absoluteString, sha256: SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined(), bytes: Int64(bytes))
        }

        func ticketFiles() throws -> [String] {
            guard FileManager.default.fileExists(atPath: tickets.path) else { return [] }
            return try FileManager.default.contentsOfDirectory(atPath: tickets.path).filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }
        }

        func remove() { try? FileManager.default.removeItem(at: root) }
    }

    static func configuration(_ folder: Folder, failureRate: Double = 0, inProduction: Duration? = nil, shipped: Duration? = nil) -> VendorConfiguration {
        var c = VendorConfiguration(adapter: .sandbox, baseURL: "", auth: .init(kind: .bearer), products: ["print-4x6": .init(sku: "SBX-4X6")],
                                    countries: ["GB": .init(priority: 1)], timeouts: .init(connect: .seconds(5), request: .seconds(30)),
                                    webhooks: .init(verify: .sharedSecret, secret: "sbx-token-\(UUID().uuidString.prefix(6))", header: "X-Sandbox-Token"))
        // Simulated outages must not open the breaker here: these tests are about duplicates.
        c.breaker = .init(failureThreshold: 1000, coolDown: .seconds(1))
        c.sandbox = .init(folder: folder.tickets.path, allowedRoots: [folder.objects.path], failureRate: failureRate,
                          inProductionAfter: inProduction, shippedAfter: shipped)
        return c
    }

    static func adapter(_ configuration: VendorConfiguration, deliver: SandboxAdapter.Deliver? = nil) throws -> SandboxAdapter {
        try #require(try Fulfillment.makeAdapter(name: "sandbox", configuration: configuration, metrics: FulfillmentMetrics(),
                                                 sandboxUpdates: deliver) as? SandboxAdapter)
    }

    static func ticket(_ id: String, assets: [Asset], key: String? = nil) throws -> PrintTicket {
        let order = Fixtures.order(id, products: Array(repeating: "print-4x6", count: assets.count))
        return PrintTicket(order: order, lines: zip(order.items, assets).map { .init(item: $0, product: .init(sku: "SBX-4X6"), asset: $1) },
                           key: key ?? IdempotencyKey.derive(orderID: id, vendor: "sandbox"))
    }

    @Test func aTicketIsWrittenOnceWithItsMastersAndRepeatsReturnTheSameOrder() async throws {
        let folder = try Folder()
        defer { folder.remove() }
        let adapter = try Self.adapter(Self.configuration(folder))
        let assets = [try folder.master("a.jpg"), try folder.master("b.jpg", bytes: 9000)]
        let ticket = try Self.ticket("sbx-\(UUID().uuidString.prefix(6))", assets: assets)

        let first = try await adapter.submit(ticket, resume: false, logger: Fixtures.logger)
        #expect(first.how == "created" && first.status == .accepted)
        #expect(first.id == SandboxAdapter.vendorOrderID(key: ticket.key))
        let file = folder.tickets.appendingPathComponent("\(ticket.key).json")
        let record = try JSONDecoder().decode(SandboxAdapter.Record.self, from: Data(contentsOf: file))
        #expect(record.vendorOrderId == first.id)
        #expect(record.ticket.contains(Fixtures.recipient.name), "the vendor's copy of the ticket carries the recipient")
        #expect(record.masters.map(\.sha256) == assets.map(\.sha256!), "masters copied byte for byte")
        for master in record.masters {
            let copied = try Data(contentsOf: folder.tickets.appendingPathComponent(master.file))
            #expect(Int64(copied.count) == master.bytes)
        }

        let again = try await adapter.submit(ticket, resume: true, logger: Fixtures.logger)
        #expect(again.id == first.id && again.how == "replayed")
        // Many calls at once for one key (redeliveries racing): still one ticket file, one order id.
        let ids = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<8 { group.addTask { try await adapter.submit(ticket, resume: false, logger: Fixtures.logger).id } }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(ids == [first.id])
        #expect(try folder.ticketFiles() == ["\(ticket.key).json"])
        #expect(try await adapter.status(vendorOrderID: first.id, key: ticket.key, logger: Fixtures.logger)?.id == first.id)
        #expect(try await adapter.status(vendorOrderID: "sbx-other", key: ticket.key, logger: Fixtures.logger) == nil)
    }

    @Test func theSameKeyWithADifferentTicketIsRefusedLikeA422() async throws {
        let folder = try Folder()
        defer { folder.remove() }
        let adapter = try Self.adapter(Self.configuration(folder))
        let id = "sbx-\(UUID().uuidString.prefix(6))"
        let ticket = try Self.ticket(id, assets: [try folder.master("c.jpg")])
        _ = try await adapter.submit(ticket, resume: false, logger: Fixtures.logger)
        var changed = ticket
        changed.order.reference = "#other"
        let error = await #expect(throws: VendorCallError.self) { try await adapter.submit(changed, resume: false, logger: Fixtures.logger) }
        #expect(error?.kind == .rejected && error?.httpStatus == 422)
        #expect(error?.jobError.errorClass == .permanent)
        let message = error?.message ?? ""
        #expect(!message.contains(Fixtures.recipient.name))
    }

    @Test func fileMastersOutsideTheAllowedRootsAreRefusedAndNothingIsWritten() async throws {
        let folder = try Folder()
        defer { folder.remove() }
        let adapter = try Self.adapter(Self.configuration(folder))
        let outside = folder.root.appendingPathComponent("elsewhere.jpg")
        try Data("not a master".utf8).write(to: outside)
        // Also a path that climbs out of the root, and one through a symlink pointing out.
        let climbing = URL(string: folder.objects.absoluteString + "masters/../../elsewhere.jpg")!
        try FileManager.default.createSymbolicLink(at: folder.objects.appendingPathComponent("masters/link.jpg"), withDestinationURL: outside)
        for url in [outside, climbing, folder.objects.appendingPathComponent("masters/link.jpg")] {
            let ticket = try Self.ticket("sbx-\(UUID().uuidString.prefix(6))", assets: [Asset(url: url.absoluteString)])
            let error = await #expect(throws: VendorCallError.self) { try await adapter.submit(ticket, resume: false, logger: Fixtures.logger) }
            #expect(error?.kind == .rejected, "\(url): \(String(describing: error))")
        }
        let wrongChecksum = try Self.ticket("sbx-\(UUID().uuidString.prefix(6))", assets: [Asset(url: try folder.master("d.jpg").url, sha256: String(repeating: "0", count: 64))])
        let error = await #expect(throws: VendorCallError.self) { try await adapter.submit(wrongChecksum, resume: false, logger: Fixtures.logger) }
        #expect(error?.httpStatus == 422)
        #expect(try folder.ticketFiles().isEmpty, "no ticket for a refused order")
    }

    /// Simulated outages and lost answers through the real submission path
    /// (intents in Redis, masters presigned from ministack): retried as the
    /// queue would, every order ends accepted with exactly one ticket.
    @Test func simulatedFailuresNeverMakeASecondOrder() async throws {
        let folder = try Folder()
        defer { folder.remove() }
        let h = try await Harness(vendors: ["sandbox": Self.configuration(folder, failureRate: 0.6)])
        defer { h.client.shutdown() }
        var orders: [FulfillmentOrder] = []
        for n in 0..<6 {
            let order = Fixtures.order("sbxf-\(n)-\(UUID().uuidString.prefix(6))")
            orders.append(order)
            let outcome = await h.retried(order, from: 1, limit: 60)
            #expect(outcome.value?.state == .accepted, "\(outcome)")
            #expect(outcome.value?.vendorOrderId == SandboxAdapter.vendorOrderID(key: IdempotencyKey.derive(orderID: order.orderId, vendor: "sandbox")))
        }
        #expect(try folder.ticketFiles().sorted() == orders.map { IdempotencyKey.derive(orderID: $0.orderId, vendor: "sandbox") + ".json" }.sorted(),
                "one ticket per order")
    }

    /// Accepting schedules signed webhooks for production and shipping; applied
    /// as vendor-event jobs would apply them, the order reaches shipped with a
    /// tracking number, and lookups answer the same from the folder.
    @Test func statusUpdatesAreSignedWebhooksAndLookupsAgree() async throws {
        let folder = try Folder()
        defer { folder.remove() }
        let updates = Mutex<[SandboxAdapter.StatusUpdate]>([])
        let configuration = Self.configuration(folder, inProduction: .seconds(600), shipped: .seconds(1200))
        let h = try await Harness(vendors: ["sandbox": configuration], sandboxUpdates: { update in updates.withLock { $0.append(update) } })
        defer { h.client.shutdown() }
        let order = Fixtures.order("sbxs-\(UUID().uuidString.prefix(6))")
        let before = Date()
        let accepted = try #require(await h.retried(order, from: 1).value)
        #expect(accepted.state == .accepted)
        let scheduled = updates.withLock { $0 }
        let key = IdempotencyKey.derive(orderID: order.orderId, vendor: "sandbox")
        #expect(scheduled.map(\.jobID) == ["sandbox:\(key):in_production", "sandbox:\(key):shipped"])
        #expect(scheduled[0].notBefore >= before.addingTimeInterval(599) && scheduled[1].notBefore > scheduled[0].notBefore)
        for update in scheduled {
            let payload = try #require(try JSONSerialization.jsonObject(with: Data(update.payload.utf8)) as? [String: Any])
            #expect(payload["vendor"] as? String == "sandbox")
            let body = Data(try #require(payload["body"] as? String).utf8)
            let headers = try #require(payload["headers"] as? [String: String])
            _ = try await h.fulfillment.handleEvent(vendor: "sandbox", body: body, headers: headers, query: [:], logger: Fixtures.logger)
            // A forged one changes nothing.
            await #expect(throws: JobError.self) {
                try await h.fulfillment.handleEvent(vendor: "sandbox", body: body, headers: ["X-Sandbox-Token": "wrong"], query: [:], logger: Fixtures.logger)
            }
        }
        let record = try await h.record(order.orderId)
        #expect(record.state == .shipped)
        #expect(record.fields["tracking_number"]?.hasPrefix("SBX") == true)
        #expect(record.fields["carrier"] == "Sandbox Post")

        let adapter = try #require(h.fulfillment.adapters["sandbox"] as? SandboxAdapter)
        let file = try #require(try await adapter.read(key: key))
        #expect(adapter.order(file, how: "x").status == .accepted, "nothing due yet")
        #expect(adapter.order(file, how: "x", now: file.createdAtMs + 600_000).status == .inProduction)
        let late = adapter.order(file, how: "x", now: file.createdAtMs + 1_200_000)
        #expect(late.status == .shipped && late.shipment?.trackingNumber == record.fields["tracking_number"])
    }
}
