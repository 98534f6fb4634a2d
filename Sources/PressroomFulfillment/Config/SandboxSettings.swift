import Foundation
import PressroomQueue

extension VendorConfiguration {
    /// The `sandbox:` section of a vendor with `adapter: sandbox` (documented
    /// field by field in config/vendors.yaml): a simulated print vendor that
    /// keeps its orders in a local folder, so the quick start needs no account.
    public struct Sandbox: Codable, Sendable, Equatable {
        /// Where tickets (`<key>.json`) and their masters (`<key>/`) are written.
        public var folder: String
        /// The only local directories a `file://` master may be read from
        /// (the filesystem store's root); empty: `file://` masters are refused.
        public var allowedRoots: [String] = []
        /// Simulated time the vendor takes to answer a create.
        public var latency: DurationText = DurationText(.zero)
        /// Share (0–1) of creates that fail the way real vendors do: half
        /// before the order exists (a 503), half after it (the answer is lost).
        public var failureRate: Double = 0
        /// After accepting, the order goes to production this much later; unset: never.
        public var inProductionAfter: DurationText?
        /// ...and ships this much later (with a fake tracking number); unset: never.
        public var shippedAfter: DurationText?
        /// The carrier named on the fake shipments.
        public var carrier: String = "Sandbox Post"

        public init(folder: String, allowedRoots: [String] = [], latency: Duration = .zero, failureRate: Double = 0,
                    inProductionAfter: Duration? = nil, shippedAfter: Duration? = nil, carrier: String = "Sandbox Post") {
            self.folder = folder
            self.allowedRoots = allowedRoots
            self.latency = DurationText(latency)
            self.failureRate = failureRate
            self.inProductionAfter = inProductionAfter.map(DurationText.init)
            self.shippedAfter = shippedAfter.map(DurationText.init)
            self.carrier = carrier
        }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            folder = try c.decode(String.self, forKey: .folder)
            allowedRoots = try c.decodeIfPresent([String].self, forKey: .allowedRoots) ?? []
            latency = try c.decodeIfPresent(DurationText.self, forKey: .latency) ?? DurationText(.zero)
            failureRate = try c.decodeIfPresent(Double.self, forKey: .failureRate) ?? 0
            inProductionAfter = try c.decodeIfPresent(DurationText.self, forKey: .inProductionAfter)
            shippedAfter = try c.decodeIfPresent(DurationText.self, forKey: .shippedAfter)
            carrier = try c.decodeIfPresent(String.self, forKey: .carrier) ?? "Sandbox Post"
        }
    }

    func sandboxProblems() -> [(field: String, problem: String)] {
        guard let sandbox else { return [("sandbox", "adapter sandbox needs a sandbox section (at least sandbox.folder)")] }
        var found: [(String, String)] = []
        if sandbox.folder.isEmpty { found.append(("sandbox.folder", "must not be empty")) }
        if !(0...1).contains(sandbox.failureRate) { found.append(("sandbox.failureRate", "must be between 0 and 1")) }
        if sandbox.allowedRoots.contains(where: \.isEmpty) { found.append(("sandbox.allowedRoots", "entries must not be empty")) }
        if let a = sandbox.inProductionAfter, let b = sandbox.shippedAfter, b.duration < a.duration {
            found.append(("sandbox.shippedAfter", "must not be earlier than inProductionAfter"))
        }
        if (sandbox.inProductionAfter ?? sandbox.shippedAfter) != nil, webhooks == nil {
            found.append(("webhooks", "simulated status updates are delivered as signed vendor-event jobs: add a webhooks section"))
        }
        return found
    }
}
