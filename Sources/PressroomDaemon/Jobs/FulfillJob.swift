import Foundation
import PressroomFulfillment
import PressroomQueue
import PressroomStorage
import PressroomSupport

/// `fulfill`: a paid order whose masters are rendered. Validates it, resolves
/// the masters (HEAD for existence and checksums, presigned GET URLs), then
/// hands the ticket to the routed vendor exactly once (see
/// ``Fulfillment/fulfil(_:attempt:probablyNew:logger:assets:)``).
struct FulfillJob: JobHandler {
    static let type = "fulfill"

    let jobs: FulfillmentJobs

    func handle(_ context: JobContext) async throws -> Data? {
        let order = try context.job.decodePayload(FulfillmentOrder.self)
        try validate(order)
        let jobs = self.jobs
        // A shop's first attempt usually finds no record; the workflow's job always does (its `order` job made it).
        let probablyNew = context.job.attempt == 1 && context.job.id != OrderWorkflow.fulfilJobID(order: order.orderId)
        do {
            let outcome = try await jobs.fulfillment.fulfil(order, attempt: context.job.attempt, probablyNew: probablyNew, logger: context.logger) {
                try await Self.resolveAssets(order, jobs: jobs)
            }
            return Data(outcome.json.utf8)
        } catch {
            throw jobs.capped(JobFailure.classify(error, while: "fulfilling order \(order.orderId)"))
        }
    }

    /// Everything checkable without a vendor; each problem names its field.
    /// Without `masters` (an `order` job, before rendering) master keys are not checked.
    func validate(_ order: FulfillmentOrder, masters: Bool = true) throws {
        func fail(_ field: String, _ problem: String) -> JobError { .permanent("\(field): \(problem)") }
        // Nothing but whitespace (line breaks too), tested per Character: trimming
        // with a CharacterSet went through ICU for every field of every ticket.
        func blank(_ text: String) -> Bool { text.allSatisfy(\.isWhitespace) }
        let id = order.orderId
        guard !id.isEmpty, id.count <= 100, id.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F && !"{}".unicodeScalars.contains($0) }) else {
            throw fail("orderId", "must be 1-100 printable ASCII characters without spaces, '{' or '}'")
        }
        guard !blank(order.reference) else { throw fail("reference", "must not be empty") }
        let r = order.recipient
        guard !blank(r.name) else { throw fail("recipient.name", "is required") }
        let a = r.address
        guard let first = a.lines.first, !blank(first) else { throw fail("recipient.address.lines", "needs at least one non-empty line") }
        guard a.lines.count <= 4 else { throw fail("recipient.address.lines", "at most 4 lines") }
        guard !blank(a.city) else { throw fail("recipient.address.city", "is required") }
        guard !blank(a.postalCode) else { throw fail("recipient.address.postalCode", "is required") }
        guard a.countryCode.count == 2, a.countryCode.allSatisfy({ $0.isASCII && $0.isUppercase }) else {
            throw fail("recipient.address.countryCode", "must be an ISO 3166-1 alpha-2 code in capitals (DE, US)")
        }
        if ["US", "CA", "AU"].contains(a.countryCode), blank(a.state ?? "") {
            throw fail("recipient.address.state", "is required for \(a.countryCode)")
        }
        if let email = r.email, !email.isEmpty, !email.contains("@") { throw fail("recipient.email", "is not an email address") }
        guard !order.items.isEmpty else { throw fail("items", "needs at least one item") }
        guard order.items.count <= 100 else { throw fail("items", "at most 100 items") }
        for (index, item) in order.items.enumerated() {
            guard jobs.products.contains(item.product) else {
                throw fail("items[\(index)].product", "unknown product policy '\(item.product)' (known: \(jobs.products.sorted().joined(separator: ", ")))")
            }
            guard (1...10_000).contains(item.quantity) else { throw fail("items[\(index)].quantity", "must be 1-10000") }
            if masters { _ = try jobs.settings.checkMaster(item.master, field: "items[\(index)].master") }
            if let sku = item.sku, sku.isEmpty || sku.count > 100 { throw fail("items[\(index)].sku", "must be 1-100 characters") }
        }
        if let preferred = order.preferredVendor, jobs.fulfillment.vendors[preferred] == nil {
            throw fail("preferredVendor", "'\(preferred)' is not a configured vendor (known: \(jobs.fulfillment.vendors.keys.sorted().joined(separator: ", ")))")
        }
    }

    /// HEAD each master (it must exist) and presign a GET URL for the vendor.
    static func resolveAssets(_ order: FulfillmentOrder, jobs: FulfillmentJobs) async throws -> [Asset] {
        var assets: [Asset] = []
        for (index, item) in order.items.enumerated() {
            let metadata: ObjectMetadata?
            do {
                metadata = try await jobs.store.head(item.master)
            } catch {
                throw JobFailure.classify(error, while: "checking master \(item.master)")
            }
            guard let metadata else {
                throw JobError.permanent("items[\(index)].master: object '\(item.master)' does not exist in the store (render it first)")
            }
            let url: URL
            do {
                url = try await jobs.store.presignedURL(for: item.master, method: .get, expiresIn: jobs.settings.presignExpiry.duration)
            } catch {
                throw JobFailure.classify(error, while: "presigning master \(item.master)")
            }
            guard let scheme = url.scheme, ["http", "https"].contains(scheme) || (url.isFileURL && (try? onlySandboxes(order, jobs: jobs)) == true) else {
                throw JobError.permanent("storage: the \(scheme(url)) store cannot give vendors a URL to download masters from; use storage.backend s3 (or route the order only to a sandbox vendor)")
            }
            assets.append(Asset(url: url.absoluteString, sha256: metadata.checksumSHA256.flatMap(hex(base64:)), md5: metadata.md5Hex, bytes: metadata.size))
        }
        return assets
    }

    /// Whether every vendor the order may go to is a local sandbox, which
    /// reads `file://` masters (under its allowed roots) that no real vendor could.
    static func onlySandboxes(_ order: FulfillmentOrder, jobs: FulfillmentJobs) throws -> Bool {
        try jobs.fulfillment.router.candidates(for: order).allSatisfy { jobs.fulfillment.vendors[$0.name]?.adapter == .sandbox }
    }

    private static func scheme(_ url: URL) -> String { url.isFileURL ? "filesystem" : (url.scheme ?? "configured") }

    static func hex(base64: String) -> String? {
        Data(base64Encoded: base64).map(\.hexString)
    }
}
