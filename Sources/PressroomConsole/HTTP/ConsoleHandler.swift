import Crypto
import FlyingFox
import Foundation
import Logging
import Mustache
import PressroomQueue

/// The operator console: `/` and `/console/…` on the admin port.
///
/// Security is decided here, on the server, for every request:
/// - authentication (Basic or Bearer) when users are configured;
/// - writes only by POST, only for operators, never in read-only mode (405);
/// - CSRF: a write needs `Sec-Fetch-Site: same-origin`, an `Origin` equal to
///   the request's host, or the user's form token; a cross-site
///   `Sec-Fetch-Site` or a foreign `Origin` is refused even with a token;
/// - every response carries a CSP with a fresh nonce (no other inline
///   script or style runs), `nosniff`, `frame-ancestors 'none'`, no caching;
/// - every value from Redis goes through swift-mustache's HTML escaping.
public struct ConsoleHandler: HTTPHandler, Sendable {
    let settings: ConsoleSettings
    let source: ConsoleSource
    let logger: Logger
    let authenticator: ConsoleAuthenticator
    let library: MustacheLibrary

    public init(settings: ConsoleSettings, source: ConsoleSource, logger: Logger) throws {
        self.settings = settings
        self.source = source
        var logger = logger
        logger[metadataKey: "component"] = "console"
        self.logger = logger
        self.authenticator = ConsoleAuthenticator(users: settings.users)
        var library = MustacheLibrary()
        try library.register(LayoutTemplates.header, named: "header")
        try library.register(LayoutTemplates.footer, named: "footer")
        for (name, text) in [("overview", PageTemplates.overview), ("consumers", PageTemplates.consumers), ("dead", PageTemplates.deadList),
                             ("dead-entry", PageTemplates.deadDetail), ("confirm", PageTemplates.confirm), ("result", PageTemplates.result),
                             ("jobs", PageTemplates.jobs), ("orders", PageTemplates.orders), ("message", PageTemplates.message)] {
            try library.register(text, named: name)
        }
        self.library = library
    }

    /// Routes that change state: POST only, operators only, refused when read-only.
    static let writeRoutes: Set<String> = ["/console/dead/confirm", "/console/dead/apply"]
    static let readRoutes: Set<String> = ["/", "/console", "/console/", "/console/consumers", "/console/dead", "/console/dead/entry",
                                          "/console/jobs", "/console/orders"]

    public func handleRequest(_ request: HTTPRequest) async throws -> HTTPResponse {
        let nonce = Self.nonce()
        let path = request.path
        let isWrite = Self.writeRoutes.contains(path)
        guard isWrite || Self.readRoutes.contains(path) else {
            return plain(.notFound, "not found\n", nonce: nonce)
        }
        if isWrite {
            if settings.readOnly {
                return plain(.methodNotAllowed, "the console is read-only\n", nonce: nonce, extra: [HTTPHeader("Allow"): "GET"])
            }
            guard request.method == .POST else {
                return plain(.methodNotAllowed, "method not allowed\n", nonce: nonce, extra: [HTTPHeader("Allow"): "POST"])
            }
        } else if request.method != .GET {
            return plain(.methodNotAllowed, "method not allowed\n", nonce: nonce, extra: [HTTPHeader("Allow"): "GET"])
        }
        guard case .allowed(let identity) = authenticator.authenticate(authorization: request.headers[.authorization]) else {
            logger.warning("console: authentication failed", metadata: ["path": "\(path)", "remote": "\(Self.remote(request))"])
            return plain(.unauthorized, "authentication required\n", nonce: nonce,
                         extra: [HTTPHeader("WWW-Authenticate"): #"Basic realm="pressroom console", charset="UTF-8""#])
        }
        var frame = PageFrame(
            title: "", nonce: nonce, csrf: authenticator.csrfToken(for: identity), user: identity.name, readOnly: settings.readOnly,
            canWrite: !settings.readOnly && identity.role == .operator, version: source.version, namespace: source.namespace,
            generatedAt: Formatting.time(Date()), refresh: nil, refreshValue: settings.refreshSeconds, hasOrders: source.ordersQueue != nil)
        let query = FormFields(request.target.query())
        do {
            if isWrite {
                guard identity.role == .operator else {
                    return plain(.forbidden, "this account is read-only\n", nonce: nonce)
                }
                let body = try await request.bodyData
                guard body.count <= 1_000_000 else { return plain(.payloadTooLarge, "request too large\n", nonce: nonce) }
                let form = FormFields(String(decoding: body, as: UTF8.self))
                if let refusal = csrfRefusal(request, form: form, identity: identity) {
                    logger.warning("console: write refused (CSRF)", metadata: ["path": "\(path)", "user": "\(identity.name)", "why": "\(refusal)"])
                    return plain(.forbidden, "refused: \(refusal)\n", nonce: nonce)
                }
                return try await write(path, form: form, identity: identity, frame: frame)
            }
            return try await read(path, query: query, frame: &frame)
        } catch {
            logger.error("console: page failed", metadata: ["path": "\(path)", "error": "\(error)"])
            frame.title = "Something went wrong"
            return render("message", Page(frame: frame, body: MessageBody(noticeClass: "bad", text: "Redis could not be read: \(error)")),
                          status: .serviceUnavailable)
        }
    }

    // MARK: Pages

    private func read(_ path: String, query: FormFields, frame: inout PageFrame) async throws -> HTTPResponse {
        let refresh = query.int("refresh", default: settings.refreshSeconds, in: ConsoleSettings.minimumRefresh...ConsoleSettings.maximumRefresh)
        switch path {
        case "/", "/console", "/console/":
            frame.live("Overview", .overview, refresh: refresh)
            return render("overview", Page(frame: frame, body: try await OverviewBody.load(source)))
        case "/console/consumers":
            frame.live("Consumers", .consumers, refresh: refresh)
            return render("consumers", Page(frame: frame, body: try await ConsumersBody.load(source)))
        case "/console/dead":
            frame.title = "Dead letters"
            frame.select(.dead)
            return render("dead", Page(frame: frame, body: try await DeadListBody.load(source, fields: query, settings: settings)))
        case "/console/dead/entry":
            frame.select(.dead)
            let references = DeadLetterActions(source: source, limit: 1, logger: logger).parse(query.all("ref"))
            guard let reference = references.first, let letter = try await source.deadLetters.show(id: reference.text) else {
                frame.title = "Dead letter not found"
                return render("message", Page(frame: frame, body: MessageBody(
                    noticeClass: "warn", text: "No such dead letter: it may have been replayed or purged.")), status: .notFound)
            }
            frame.title = "Dead letter \(letter.jobID ?? letter.id)"
            return render("dead-entry", Page(frame: frame, body: try await DeadDetailBody.load(source, letter: letter)))
        case "/console/jobs":
            frame.title = "Job lookup"
            frame.select(.jobs)
            return render("jobs", Page(frame: frame, body: try await JobLookupBody.load(source, id: query.text("id", maxLength: 300))))
        case "/console/orders":
            frame.title = "Orders"
            frame.select(.orders)
            return render("orders", Page(frame: frame, body: try await OrdersBody.load(source, id: query.text("id", maxLength: 300))))
        default:
            return plain(.notFound, "not found\n", nonce: frame.nonce)
        }
    }

    private func write(_ path: String, form: FormFields, identity: ConsoleAuthenticator.Identity, frame: PageFrame) async throws -> HTTPResponse {
        var frame = frame
        frame.select(.dead)
        let actions = DeadLetterActions(source: source, limit: settings.bulkLimit, logger: logger)
        let filterForm = DeadLetterFilterForm(form, queues: source.queues)
        let raw = form["action"] ?? ""
        switch path {
        case "/console/dead/confirm":
            // Nothing changes here: the page snapshots the entries to act on.
            let parts = raw.split(separator: "-", maxSplits: 1).map(String.init)
            guard parts.count == 2, let action = DeadLetterActions.Action(rawValue: parts[0]), ["selected", "filter"].contains(parts[1]) else {
                return plain(.badRequest, "unknown action\n", nonce: frame.nonce)
            }
            var references: [DeadLetterActions.Reference]
            var more = false
            if parts[1] == "filter" {
                (references, more) = try await actions.snapshot(filter: filterForm.filter(now: Date()))
            } else {
                references = actions.parse(form.all("ref"))
                more = references.count > settings.bulkLimit
                references = Array(references.prefix(settings.bulkLimit))
            }
            frame.title = action == .replay ? "Confirm replay" : "Confirm purge"
            return render("confirm", Page(frame: frame, body: ConfirmBody(
                action: action, references: references.map(\.text), more: more, byFilter: parts[1] == "filter", form: filterForm,
                bulkLimit: settings.bulkLimit)))
        case "/console/dead/apply":
            guard let action = DeadLetterActions.Action(rawValue: raw) else { return plain(.badRequest, "unknown action\n", nonce: frame.nonce) }
            let references = actions.parse(form.all("ref"))
            let report = try await actions.perform(action, on: references, by: identity.name)
            frame.title = action == .replay ? "Replayed" : "Purged"
            return render("result", Page(frame: frame, body: ResultBody(report, backLink: filterForm.listLink)))
        default:
            return plain(.notFound, "not found\n", nonce: frame.nonce)
        }
    }

    // MARK: Security

    /// Why a write is refused, or nil when it may go ahead.
    func csrfRefusal(_ request: HTTPRequest, form: FormFields, identity: ConsoleAuthenticator.Identity) -> String? {
        let site = request.headers[HTTPHeader("Sec-Fetch-Site")]?.lowercased()
        if let site, site != "same-origin" { return "Sec-Fetch-Site is \(site)" }
        var originMatches = false
        if let origin = request.headers[HTTPHeader("Origin")] {
            guard let host = request.headers[.host], let url = URL(string: origin), let originHost = url.host else {
                return "Origin does not match the host"
            }
            let originAuthority = originHost + (url.port.map { ":\($0)" } ?? "")
            guard origin != "null", originAuthority.lowercased() == host.lowercased() else { return "Origin does not match the host" }
            originMatches = true
        }
        if site == "same-origin" || originMatches || authenticator.checkCSRFToken(form["csrf"], for: identity) { return nil }
        return "no same-origin proof and no valid form token"
    }

    static func nonce() -> String {
        Data(SymmetricKey(size: .bits128).withUnsafeBytes { Array($0) }).base64EncodedString()
    }

    static func securityHeaders(nonce: String) -> HTTPHeaders {
        var headers = HTTPHeaders()
        for (name, value) in [
            HTTPHeader("Content-Security-Policy"):
                "default-src 'none'; script-src 'nonce-\(nonce)'; style-src 'nonce-\(nonce)'; img-src 'self' data:; connect-src 'self'; "
                + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            HTTPHeader("X-Content-Type-Options"): "nosniff",
            HTTPHeader("X-Frame-Options"): "DENY",
            HTTPHeader("Referrer-Policy"): "same-origin",
            HTTPHeader("Cache-Control"): "no-store",
        ] as KeyValuePairs<HTTPHeader, String> {
            headers[name] = value
        }
        return headers
    }

    private func render<Body: Sendable>(_ template: String, _ page: Page<Body>, status: HTTPStatusCode = .ok) -> HTTPResponse {
        let html = library.render(page, withTemplate: template) ?? ""
        var headers = Self.securityHeaders(nonce: page.frame.nonce)
        headers[.contentType] = "text/html; charset=utf-8"
        return HTTPResponse(statusCode: status, headers: headers, body: Data(html.utf8))
    }

    private func plain(_ status: HTTPStatusCode, _ text: String, nonce: String, extra: [HTTPHeader: String] = [:]) -> HTTPResponse {
        var headers = Self.securityHeaders(nonce: nonce)
        headers[.contentType] = "text/plain; charset=utf-8"
        for (k, v) in extra { headers[k] = v }
        return HTTPResponse(statusCode: status, headers: headers, body: Data(text.utf8))
    }

    private static func remote(_ request: HTTPRequest) -> String {
        switch request.remoteAddress {
        case .ip4(let host, _)?, .ip6(let host, _)?: host
        default: "?"
        }
    }
}
