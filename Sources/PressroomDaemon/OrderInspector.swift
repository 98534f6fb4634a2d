import Foundation
import PressroomFulfillment
import PressroomQueue

/// `pressroom order show`: an order's record, routing decision, intents with
/// their results, and timeline with the time spent in each step. Personal
/// data (the recipient) is never printed.
public enum OrderInspector {
    public static func show(id: String, configuration: PressroomConfiguration, json: Bool) async throws -> String? {
        let client = RedisClient(topology: try configuration.redisTopology, name: "order-show")
        defer { client.shutdown() }
        let store = OrderStore(client: client, keys: configuration.orderKeys, redisPatience: .seconds(5))
        guard let record = try await store.read(id) else { return nil }
        if json { return try renderJSON(record) }
        var text = render(record)
        // Not settled yet: what has been charged so far.
        if record.fields["cost_cpu_seconds"] == nil {
            let cost = try await OrderCostLedger(client: client, keys: configuration.orderKeys).cost(order: id)
            if let cpu = cost["cpu_seconds"].flatMap(Double.init) {
                text += String(format: "\ncost so far: %.3f CPU seconds over %@ job runs, %@ bytes written", cpu, cost["runs"] ?? "0", cost["bytes_written"] ?? "0")
            }
        }
        return text
    }

    /// Fields that hold the customer's data, left out of every rendering.
    static let privateFields: Set<String> = ["payload", "order_payload"]

    static func renderJSON(_ record: OrderRecord) throws -> String {
        var object: [String: Any] = [:]
        for (key, value) in record.fields where !privateFields.contains(key) {
            if let data = value.data(using: .utf8), let parsed = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]),
               value.hasPrefix("{") || value.hasPrefix("[") {
                object[key] = parsed
            } else {
                object[key] = value
            }
        }
        if let order = record.order {
            object["order"] = ["reference": order.reference, "shipping": order.shipping.rawValue, "country": order.recipient.address.countryCode,
                               "preferredVendor": order.preferredVendor as Any,
                               "items": order.items.map { ["product": $0.product, "quantity": $0.quantity, "master": $0.master, "sku": $0.sku as Any] }]
        }
        if let assets = object["assets"] as? [[String: Any]] {
            object["assets"] = assets.map { asset in
                var asset = asset
                if let url = asset["url"] as? String { asset["url"] = withoutSignature(url) }
                return asset
            }
        }
        object["timeline"] = record.timeline
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }

    /// A presigned URL without its query: the signature lets anyone download
    /// the master until it expires, so it is a credential, not something to print.
    static func withoutSignature(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.query != nil else { return url }
        components.query = nil
        return (components.string ?? "") + "?(presigned; signature not shown)"
    }

    static func time(_ ms: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }

    static func duration(_ ms: Int64) -> String {
        if ms < 1000 { return "\(ms)ms" }
        if ms < 120_000 { return String(format: "%.1fs", Double(ms) / 1000) }
        if ms < 7_200_000 { return String(format: "%.1fm", Double(ms) / 60_000) }
        return String(format: "%.1fh", Double(ms) / 3_600_000)
    }

    static func render(_ r: OrderRecord) -> String {
        var out: [String] = []
        out.append("order \(r.id)  state \(r.state)  version \(r.version)")
        out.append("created \(time(r.createdAt))  updated \(time(r.updatedAt))")
        if let order = r.order {
            out.append("reference \(order.reference)  shipping \(order.shipping.rawValue)  to \(order.recipient.address.countryCode)" +
                       (order.preferredVendor.map { "  preferred \($0)" } ?? ""))
            for (i, item) in order.items.enumerated() {
                out.append("  item \(i): \(item.quantity) × \(item.product)\(item.sku.map { " (sku \($0))" } ?? "")  master \(item.master)")
            }
        }
        if let count = r.fields["lines"].flatMap(Int.init), r.fields[Fulfillment.workflowField] != nil {
            out.append("lines: \(count) (order job)")
            for line in 0..<count {
                var text = "  line \(line):"
                if let master = r.fields[OrderWorkflow.masterField(line)].flatMap({ try? JSONDecoder().decode(OrderWorkflow.Master.self, from: Data($0.utf8)) }) {
                    text += " master \(master.key) (\(master.bytes) bytes\(master.sha256.map { ", sha256 \($0)" } ?? ""))"
                } else {
                    text += " no master yet"
                }
                if let failed = r.fields[OrderWorkflow.failedField(line)] { text += "  FAILED: \(failed)" }
                out.append(text)
            }
        }
        if let vendor = r.vendor { out.append("vendor \(vendor)" + (r.vendorOrderID.map { "  vendor order \($0)" } ?? "")) }
        if let route = r.route { out.append("routing: \(route.reason)") }
        if let shipment = r.shipment {
            out.append("shipment: \(shipment.carrier ?? "?") \(shipment.trackingNumber ?? "")  \(shipment.trackingURL ?? "")")
        }
        if let reason = r.failureReason { out.append("failed: \(reason)") }
        if r.ignoredTransitions > 0 { out.append("ignored out-of-order transitions: \(r.ignoredTransitions) (last \(r.fields["last_ignored"] ?? "?"))") }
        if !r.intents.isEmpty {
            out.append("intents:")
            for intent in r.intents {
                let result = r.results.first { $0.seq == intent.seq }
                var line = "  #\(intent.seq) \(time(intent.at)) \(intent.operation) at \(intent.vendor) key \(intent.key) attempt \(intent.attempt) by \(intent.consumer)"
                if let result {
                    line += " → \(result.outcome.rawValue)" + (result.vendorOrderID.map { " \($0)" } ?? "") + " after \(duration(result.durationMs))"
                    if result.outcome != .accepted { line += ": \(result.detail)" }
                } else {
                    line += " → no result yet" + (r.pendingIntent == intent.seq ? " (unresolved: the order stays with \(intent.vendor))" : "")
                }
                out.append(line)
            }
        }
        out.append("timeline:")
        var previous = r.createdAt
        for entry in r.timeline {
            let at = Int64(entry["at"] ?? "") ?? previous
            var what = entry["state"].map { "→ \($0)" } ?? entry["step"] ?? "?"
            if let line = entry["line"], let ms = entry["duration_ms"].flatMap(Int64.init) {
                what += " (line \(line) rendered in \(duration(ms)))"
            }
            let extras = entry.filter { !["at", "state", "step", "started", "duration_ms"].contains($0.key) }.sorted { $0.key < $1.key }
                .map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            out.append("  \(time(at))  +\(duration(max(0, at - previous)))  \(what)  \(extras)")
            previous = at
        }
        if let ready = r.stateTimes[.mastersReady] { out.append("order to masters ready: \(duration(ready - r.createdAt))") }
        if let accepted = r.stateTimes[.accepted] { out.append("order to accepted: \(duration(accepted - r.createdAt))") }
        if let shipped = r.stateTimes[.shipped] { out.append("order to shipped: \(duration(shipped - r.createdAt))") }
        if let cpu = r.fields["cost_cpu_seconds"].flatMap(Double.init) {
            out.append(String(format: "cost: %.3f CPU seconds over %@ job runs, %@ bytes written, %@ vendor calls", cpu,
                              r.fields["cost_runs"] ?? "0", r.fields["cost_bytes_written"] ?? "0", r.fields["cost_vendor_calls"] ?? "0"))
        }
        return out.joined(separator: "\n")
    }
}
