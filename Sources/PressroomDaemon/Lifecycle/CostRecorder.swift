import Foundation
import Logging
import Metrics
import PressroomQueue

/// Rolls the CPU time the engine attributes to each run up per upload and
/// per order (see docs/metrics.md, "Cost per upload and per order"). Every
/// run counts, failed ones too: they were paid for.
struct CostRecorder: Sendable {
    let ledger: UploadLedger
    let orders: OrderCostLedger
    let logger: Logger

    private struct Names: Decodable {
        var source: String?
        var order: String?
    }

    /// Job types whose payload's `source` is an upload.
    static let uploadTypes: Set<String> = [DeriveJob.type, RenderJob.type]
    /// The order's own jobs (`{<orderId>}:…`), after whose runs its cost may be settled.
    static let orderTypes: Set<String> = [RenderJob.type, FulfillJob.type, OrderJob.type]

    /// Job ids derived for one shop order embed it as `{<orderId>}`
    /// (`{A1001}:render:0`, `{A1001}:fulfill`): the hash-tag rule.
    static func orderTag(_ jobID: String) -> String? {
        guard let open = jobID.firstIndex(of: "{"), let close = jobID[open...].firstIndex(of: "}") else { return nil }
        let tag = jobID[jobID.index(after: open)..<close]
        return tag.isEmpty ? nil : String(tag)
    }

    /// Whether `payload` may have a `"source"` or `"order"` key: the text
    /// occurs, or a `\u` escape could spell it (decoding then tells).
    static func mentionsAName(_ payload: Data) -> Bool {
        payload.range(of: Data(#""source""#.utf8)) != nil || payload.range(of: Data(#""order""#.utf8)) != nil
            || payload.range(of: Data(#"\u"#.utf8)) != nil
    }

    func observe(_ run: JobRun) async {
        guard Self.uploadTypes.contains(run.job.type) || run.job.payload.count < 4096 else { return }
        // Decoding the payload only for its two names was a tenth of a fulfil ticket's CPU:
        // a payload that has neither key needs no decoding.
        let names: Names
        if Self.mentionsAName(run.job.payload) {
            guard let decoded = try? JSONDecoder().decode(Names.self, from: run.job.payload) else { return }
            names = decoded
        } else {
            names = Names()
        }
        let seconds = run.cpu.seconds
        do {
            if let source = names.source, Self.uploadTypes.contains(run.job.type) {
                let total = try await ledger.charge(upload: source, cpuSeconds: seconds, firstIntake: run.job.type == DeriveJob.type && run.outcome == .succeeded)
                if let total {
                    Recorder(label: "pressroom_upload_cost_cpu_seconds", aggregate: true).record(total)
                }
            }
            let tag = Self.orderTag(run.job.id)
            if let order = names.order ?? tag, QuotaGate.isValidShop(order) {
                // Settled after a run of the order's own jobs (docs/metrics.md): a deferral is no step of it.
                let settles = order == tag && Self.orderTypes.contains(run.job.type) && run.outcome != .deferred
                if let settled = try await orders.charge(order: order, cpuSeconds: seconds, settle: settles) {
                    Recorder(label: "pressroom_order_cost_cpu_seconds", aggregate: true).record(settled)
                }
            }
        } catch {
            logger.warning("could not record a job's cost", metadata: ["job_id": "\(run.job.id)", "error": "\(error)"])
        }
    }
}
