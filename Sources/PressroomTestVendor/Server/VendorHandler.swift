import FlyingFox
import Foundation
import Logging

/// Routes every request, runs the vendor-API pipeline (authenticate, count,
/// draw a fault, wait the latency, handle, deliver) and logs one line per
/// request: method, path, account, status, milliseconds. Bodies, headers
/// and query strings are never logged (they carry secrets and addresses).
struct VendorHandler: HTTPHandler {
    let services: VendorServices
    let logger: Logger
    /// Vendor API bodies are small JSON documents.
    static let maxBodyBytes = 1 << 20

    func handleRequest(_ request: FlyingFox.HTTPRequest) async throws -> FlyingFox.HTTPResponse {
        let started = ContinuousClock.now
        let (reply, account) = await dispatch(request)
        let elapsed = ContinuousClock.now - started
        let milliseconds = elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
        let status = reply.drop ? "dropped" : String(reply.status)
        logger.info("\(request.method.rawValue) \(request.path) account=\(account ?? "-") status=\(status) ms=\(milliseconds)")
        return reply.httpResponse
    }

    private func dispatch(_ request: FlyingFox.HTTPRequest) async -> (Reply, String?) {
        let parts = request.path.split(separator: "/").map(String.init)
        let method = request.method.rawValue
        guard let first = parts.first else { return (.json(404, ["error": "not found"]), nil) }
        if first == "_control" {
            return (await ControlAPI.handle(request, parts: Array(parts.dropFirst()), store: services.store), nil)
        }
        if parts == ["oauth", "token"] { return await token(request) }
        guard let dialect = Dialect(rawValue: first) else { return (.json(404, ["error": "not found"]), nil) }
        let rest = Array(parts.dropFirst())
        if rest == ["oauth", "token"] { return await token(request) }
        let style = ErrorStyle.dialect(dialect)
        let match: RouteMatch = switch dialect {
        case .generic: GenericDialect.route(method: method, parts: rest)
        case .prodigi: ProdigiDialect.route(method: method, parts: rest)
        case .printful: PrintfulDialect.route(method: method, parts: rest)
        case .gelato: GelatoDialect.route(method: method, parts: rest)
        }
        switch match {
        case .notFound:
            return (style.error(404, "no such endpoint"), nil)
        case .methodNotAllowed(let allowed):
            return (style.error(405, "method not allowed").adding(header: "Allow", allowed.joined(separator: ", ")), nil)
        case .handler(let operation, let handler):
            guard let body = await body(of: request) else { return (style.error(413, "the body is larger than 1 MiB"), nil) }
            let credentials = Self.credentials(request)
            guard case .account(let account) = await services.store.authenticate(apiKeys: credentials.apiKeys, bearerTokens: credentials.bearers)
            else { return (style.unauthorized(), nil) }
            return (await run(request, body: body, style: style, operation: operation, account: account, handler: handler), account)
        }
    }

    private func token(_ request: FlyingFox.HTTPRequest) async -> (Reply, String?) {
        let style = TokenEndpoint.style
        guard request.method == .POST else { return (style.error(405, "use POST").adding(header: "Allow", "POST"), nil) }
        guard let body = await body(of: request) else { return (style.error(413, "the body is larger than 1 MiB"), nil) }
        let form: TokenEndpoint.Form
        switch TokenEndpoint.parse(request, body: body) {
        case .success(let parsed): form = parsed
        case .failure(let refusal): return (refusal.reply, nil)
        }
        guard let id = form.clientID, let secret = form.clientSecret,
              let account = await services.store.client(id: id, secret: secret)
        else { return (style.unauthorized(), nil) }
        let reply = await run(request, body: body, style: style, operation: .token, account: account) { call in
            await TokenEndpoint.issue(call, form: form)
        }
        return (reply, account)
    }

    /// The part every authenticated API request shares.
    private func run(_ request: FlyingFox.HTTPRequest, body: Data, style: ErrorStyle, operation: Operation, account: String,
                     handler: @Sendable (APICall) async -> Reply) async -> Reply {
        let store = services.store
        let (fault, latency) = await store.begin(operation, account: account)
        let call = APICall(request: request, body: body, style: style, operation: operation, account: account,
                           fault: fault, latencyMilliseconds: latency, services: services)
        let reply: Reply
        if let fault, let early = await Self.answerInstead(fault, call) {
            reply = early
        } else {
            let handled = await handler(call)
            reply = await call.deliver(handled)
            await handled.afterDelivery?()
        }
        if !reply.drop { await store.recordStatus(reply.status, account: account) }
        return reply
    }

    /// Faults that replace the work: no order is created.
    private static func answerInstead(_ fault: Fault, _ call: APICall) async -> Reply? {
        let reply: Reply
        switch fault.action {
        case .status:
            reply = call.style.error(fault.status, fault.message ?? "injected fault: HTTP \(fault.status)")
            if let seconds = fault.retryAfterSeconds { return await pausing(call, reply.adding(header: "Retry-After", String(seconds))) }
        case .rateLimit:
            reply = call.style.rateLimited(retryAfter: fault.retryAfterSeconds ?? 1)
        case .validation:
            reply = call.style.validationFault(field: fault.field, message: fault.message)
        case .unauthorized:
            await call.store.revokeTokens(of: call.account)
            reply = call.style.unauthorized()
        case .hangAfterAccept, .dropAfterAccept, .slow:
            return nil
        }
        return await pausing(call, reply)
    }

    private static func pausing(_ call: APICall, _ reply: Reply) async -> Reply {
        await call.pause()
        return reply
    }

    private func body(of request: FlyingFox.HTTPRequest) async -> Data? {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > Self.maxBodyBytes { return nil }
        guard let data = try? await request.bodyData, data.count <= Self.maxBodyBytes else { return nil }
        return data
    }

    /// `X-API-Key` (any case) and `Authorization: Bearer …`; another
    /// Authorization scheme is an unknown credential.
    static func credentials(_ request: FlyingFox.HTTPRequest) -> (apiKeys: [String], bearers: [String]) {
        let apiKeys = request.headers.values(for: HTTPHeader("X-API-Key"))
        var bearers: [String] = []
        for value in request.headers.values(for: .authorization) {
            if value.lowercased().hasPrefix("bearer ") {
                bearers.append(String(value.dropFirst(7)).trimmingCharacters(in: .whitespaces))
            } else {
                bearers.append("")  // never a token: denies the request
            }
        }
        return (apiKeys, bearers)
    }
}
