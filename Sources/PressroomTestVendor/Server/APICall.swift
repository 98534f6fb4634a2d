import FlyingFox
import Foundation

/// One authenticated vendor-API request on its way through a route: who
/// sent it, which fault (if any) it drew, and the helpers that apply the
/// account's latency and the after-the-work faults.
struct APICall: Sendable {
    let request: FlyingFox.HTTPRequest
    let body: Data
    let style: ErrorStyle
    let operation: Operation
    let account: String
    let fault: Fault?
    let latencyMilliseconds: Int
    let services: VendorServices

    var store: VendorStore { services.store }

    /// The account's latency, plus the `slow` fault's delay. Creates call it
    /// after reserving their key, so the latency counts as "in flight".
    func pause() async {
        var milliseconds = latencyMilliseconds
        if let fault, fault.action == .slow { milliseconds += fault.delayMilliseconds }
        guard milliseconds > 0 else { return }
        try? await Task.sleep(for: .milliseconds(milliseconds))
    }

    /// Applies `hang-after-accept` (hold the answer until `holdMs` passes or
    /// the client hangs up) and `drop-after-accept` (close without answering)
    /// to a reply whose work is done.
    func deliver(_ reply: Reply) async -> Reply {
        guard let fault else { return reply }
        switch fault.action {
        case .dropAfterAccept:
            return .dropped
        case .hangAfterAccept:
            let remotePort: UInt16? = switch request.remoteAddress {
            case .ip4(_, let port), .ip6(_, let port): port
            case .unix, nil: nil
            }
            let outcome = await services.connections.hold(remotePort: remotePort, for: .milliseconds(fault.holdMilliseconds))
            return outcome == .clientHungUp ? .dropped : reply
        default:
            return reply
        }
    }

    /// The JSON body, or the dialect's error for a wrong media type or bad JSON.
    func jsonBody() -> Result<JSONValue, Refusal> {
        let type = request.headers[.contentType]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
        guard type == "application/json" else {
            return .failure(Refusal(reply: style.error(415, "Content-Type must be application/json")))
        }
        guard let value = JSONValue.parse(body), value.objectValue != nil else {
            return .failure(Refusal(reply: style.validationFailed([FieldProblem("", .invalid, "the body is not a JSON object")])))
        }
        return .success(value)
    }
}
