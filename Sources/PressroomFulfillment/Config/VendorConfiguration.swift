import Foundation
import PressroomQueue

/// One print vendor from `config/vendors.yaml` (documented field by field
/// there). Secret fields hold the secret itself once the daemon's loader has
/// resolved `env:`/`file:`/`credential:` references.
public struct VendorConfiguration: Codable, Sendable, Equatable {
    public enum Adapter: String, Codable, Sendable, CaseIterable {
        /// Generic vendor speaking the IETF `Idempotency-Key` header.
        case idempotencyKey = "idempotency-key"
        case prodigi
        case printful
        case gelato
        /// Built-in simulated vendor: tickets and masters go to a local folder.
        case sandbox
    }

    public struct Auth: Codable, Sendable, Equatable {
        public enum Kind: String, Codable, Sendable, CaseIterable {
            case apiKey = "api-key"
            case bearer
            case oauth2
        }
        public var kind: Kind
        /// api-key: the header carrying the key (default per adapter).
        public var header: String?
        /// api-key: the key (secret).
        public var apiKey: String?
        /// bearer: the token (secret).
        public var token: String?
        /// oauth2: the token endpoint (client-credentials grant).
        public var tokenURL: String?
        public var clientID: String?
        /// oauth2: the client secret (secret).
        public var clientSecret: String?
        public var scope: String?
        /// oauth2: fetch a new token this long before the cached one expires.
        public var refreshBefore: DurationText = DurationText(.seconds(60))

        public init(kind: Kind, header: String? = nil, apiKey: String? = nil, token: String? = nil, tokenURL: String? = nil,
                    clientID: String? = nil, clientSecret: String? = nil, scope: String? = nil) {
            self.kind = kind
            self.header = header
            self.apiKey = apiKey
            self.token = token
            self.tokenURL = tokenURL
            self.clientID = clientID
            self.clientSecret = clientSecret
            self.scope = scope
        }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            kind = try c.decode(Kind.self, forKey: .kind)
            header = try c.decodeIfPresent(String.self, forKey: .header)
            apiKey = try c.decodeIfPresent(String.self, forKey: .apiKey)
            token = try c.decodeIfPresent(String.self, forKey: .token)
            tokenURL = try c.decodeIfPresent(String.self, forKey: .tokenURL)
            clientID = try c.decodeIfPresent(String.self, forKey: .clientID)
            clientSecret = try c.decodeIfPresent(String.self, forKey: .clientSecret)
            scope = try c.decodeIfPresent(String.self, forKey: .scope)
            refreshBefore = try c.decodeIfPresent(DurationText.self, forKey: .refreshBefore) ?? DurationText(.seconds(60))
        }
    }

    /// What a product policy is called at this vendor.
    public struct Product: Codable, Sendable, Equatable {
        public var sku: String
        /// Prodigi `sizing` (fillPrintArea, fitPrintArea, stretchToPrintArea).
        public var sizing: String?
        /// Prodigi `printArea`; Printful/Gelato file `type`.
        public var printArea: String?

        public init(sku: String, sizing: String? = nil, printArea: String? = nil) {
            self.sku = sku
            self.sizing = sizing
            self.printArea = printArea
        }

        /// `print-4x6: GLOBAL-PHO-4x6` or `print-4x6: {sku: …, sizing: …}`.
        public init(from decoder: Decoder) throws {
            if let sku = try? decoder.singleValueContainer().decode(String.self) {
                self.init(sku: sku)
                return
            }
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.init(sku: try c.decode(String.self, forKey: .sku), sizing: try c.decodeIfPresent(String.self, forKey: .sizing),
                      printArea: try c.decodeIfPresent(String.self, forKey: .printArea))
        }
    }

    /// Terms for one destination country.
    public struct Country: Codable, Sendable, Equatable {
        /// Lower wins.
        public var priority: Int
        public var leadTimeDays: Int?
        /// Compared between vendors of equal priority; lower wins.
        public var cost: Double?

        public init(priority: Int, leadTimeDays: Int? = nil, cost: Double? = nil) {
            self.priority = priority
            self.leadTimeDays = leadTimeDays
            self.cost = cost
        }
    }

    public struct Timeouts: Codable, Sendable, Equatable {
        public var connect: DurationText = DurationText(.seconds(5))
        /// A whole request (send, vendor work, response).
        public var request: DurationText = DurationText(.seconds(30))

        public init(connect: Duration = .seconds(5), request: Duration = .seconds(30)) {
            self.connect = DurationText(connect)
            self.request = DurationText(request)
        }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            connect = try c.decodeIfPresent(DurationText.self, forKey: .connect) ?? DurationText(.seconds(5))
            request = try c.decodeIfPresent(DurationText.self, forKey: .request) ?? DurationText(.seconds(30))
        }
    }

    public struct Breaker: Codable, Sendable, Equatable {
        /// Consecutive failures (transport errors, timeouts, 5xx) that open it.
        public var failureThreshold: Int = 5
        /// How long it stays open before one probe is let through.
        public var coolDown: DurationText = DurationText(.seconds(30))
        /// How long the probe holds the half-open slot before another may try.
        public var probeTimeout: DurationText?

        public init(failureThreshold: Int = 5, coolDown: Duration = .seconds(30), probeTimeout: Duration? = nil) {
            self.failureThreshold = failureThreshold
            self.coolDown = DurationText(coolDown)
            self.probeTimeout = probeTimeout.map(DurationText.init)
        }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            failureThreshold = try c.decodeIfPresent(Int.self, forKey: .failureThreshold) ?? 5
            coolDown = try c.decodeIfPresent(DurationText.self, forKey: .coolDown) ?? DurationText(.seconds(30))
            probeTimeout = try c.decodeIfPresent(DurationText.self, forKey: .probeTimeout)
        }
    }

    public struct Webhooks: Codable, Sendable, Equatable {
        public enum Verify: String, Codable, Sendable, CaseIterable {
            /// Printful v2: `x-pf-webhook-signature`, hex HMAC-SHA256 of the raw body.
            case printfulHMAC = "printful-hmac"
            /// Lulu: `Lulu-HMAC-SHA256`, hex HMAC-SHA256 of the raw body.
            case luluHMAC = "lulu-hmac"
            /// HMAC-SHA256 over `<timestamp>.<body>`, timestamp checked against `tolerance`.
            case timestampedHMAC = "timestamped-hmac"
            /// A static secret in a header (or `?token=` of the forwarded URL), constant-time compare.
            case sharedSecret = "shared-secret"
        }
        public var verify: Verify
        /// The HMAC key or the shared secret (secret).
        public var secret: String
        /// Overrides the header the signature (or shared secret) is read from.
        public var header: String?
        /// timestamped-hmac: the header with the Unix timestamp (seconds).
        public var timestampHeader: String?
        /// timestamped-hmac: how old (or how far in the future) a signed timestamp may be.
        public var tolerance: DurationText = DurationText(.seconds(300))

        public init(verify: Verify, secret: String, header: String? = nil, timestampHeader: String? = nil, tolerance: Duration = .seconds(300)) {
            self.verify = verify
            self.secret = secret
            self.header = header
            self.timestampHeader = timestampHeader
            self.tolerance = DurationText(tolerance)
        }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            verify = try c.decode(Verify.self, forKey: .verify)
            secret = try c.decode(String.self, forKey: .secret)
            header = try c.decodeIfPresent(String.self, forKey: .header)
            timestampHeader = try c.decodeIfPresent(String.self, forKey: .timestampHeader)
            tolerance = try c.decodeIfPresent(DurationText.self, forKey: .tolerance) ?? DurationText(.seconds(300))
        }
    }

    public var adapter: Adapter
    /// The API root, e.g. `https://api.prodigi.com` (paths are the adapter's).
    public var baseURL: String
    public var auth: Auth
    /// Product policy name → this vendor's product.
    public var products: [String: Product]
    /// ISO 3166-1 alpha-2 country code → terms.
    public var countries: [String: Country]
    /// Requests to this vendor in flight at once, per worker process.
    public var maxInFlight: Int = 16
    public var timeouts = Timeouts()
    public var breaker = Breaker()
    public var webhooks: Webhooks?
    /// Our shipping method → the vendor's name for it (defaults per adapter).
    public var shippingMethods: [String: String]?
    /// Sent as the vendor's callback URL for status updates, when set.
    public var callbackURL: String?
    /// Printful: `X-PF-Store-Id` for account-level tokens.
    public var storeID: String?
    /// Gelato: the order currency.
    public var currency: String?
    /// sandbox: where tickets go and how the simulated vendor behaves.
    public var sandbox: Sandbox?

    public init(adapter: Adapter, baseURL: String, auth: Auth, products: [String: Product], countries: [String: Country],
                maxInFlight: Int = 16, timeouts: Timeouts = Timeouts(), breaker: Breaker = Breaker(), webhooks: Webhooks? = nil) {
        self.adapter = adapter
        self.baseURL = baseURL
        self.auth = auth
        self.products = products
        self.countries = countries
        self.maxInFlight = maxInFlight
        self.timeouts = timeouts
        self.breaker = breaker
        self.webhooks = webhooks
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        adapter = try c.decode(Adapter.self, forKey: .adapter)
        // The sandbox calls no API: it needs neither a base URL nor credentials.
        let local = adapter == .sandbox
        baseURL = try local ? c.decodeIfPresent(String.self, forKey: .baseURL) ?? "" : c.decode(String.self, forKey: .baseURL)
        auth = try local ? c.decodeIfPresent(Auth.self, forKey: .auth) ?? Auth(kind: .bearer) : c.decode(Auth.self, forKey: .auth)
        products = try c.decodeIfPresent([String: Product].self, forKey: .products) ?? [:]
        countries = try c.decodeIfPresent([String: Country].self, forKey: .countries) ?? [:]
        maxInFlight = try c.decodeIfPresent(Int.self, forKey: .maxInFlight) ?? 16
        timeouts = try c.decodeIfPresent(Timeouts.self, forKey: .timeouts) ?? Timeouts()
        breaker = try c.decodeIfPresent(Breaker.self, forKey: .breaker) ?? Breaker()
        webhooks = try c.decodeIfPresent(Webhooks.self, forKey: .webhooks)
        shippingMethods = try c.decodeIfPresent([String: String].self, forKey: .shippingMethods)
        callbackURL = try c.decodeIfPresent(String.self, forKey: .callbackURL)
        storeID = try c.decodeIfPresent(String.self, forKey: .storeID)
        currency = try c.decodeIfPresent(String.self, forKey: .currency)
        sandbox = try c.decodeIfPresent(Sandbox.self, forKey: .sandbox)
    }

    /// Problems with this vendor's settings, as (field path below the vendor, problem).
    public func problems() -> [(field: String, problem: String)] {
        var found: [(String, String)] = []
        if adapter == .sandbox {
            found += sandboxProblems()
        } else if let url = URL(string: baseURL), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil {} else {
            found.append(("baseURL", "must be an http(s) URL with a host"))
        }
        switch adapter == .sandbox ? nil : auth.kind {
        case .apiKey where (auth.apiKey ?? "").isEmpty: found.append(("auth.apiKey", "is required for kind api-key"))
        case .bearer where (auth.token ?? "").isEmpty: found.append(("auth.token", "is required for kind bearer"))
        case .oauth2:
            if URL(string: auth.tokenURL ?? "")?.host == nil { found.append(("auth.tokenURL", "is required for kind oauth2 (an http(s) URL)")) }
            if (auth.clientID ?? "").isEmpty { found.append(("auth.clientID", "is required for kind oauth2")) }
            if (auth.clientSecret ?? "").isEmpty { found.append(("auth.clientSecret", "is required for kind oauth2")) }
        default: break
        }
        if products.isEmpty { found.append(("products", "map at least one product policy to a vendor SKU")) }
        for (name, product) in products where product.sku.isEmpty { found.append(("products.\(name).sku", "must not be empty")) }
        if countries.isEmpty { found.append(("countries", "list at least one destination country")) }
        for code in countries.keys where !(code.count == 2 && code.allSatisfy({ $0.isASCII && $0.isUppercase })) {
            found.append(("countries.\(code)", "must be an ISO 3166-1 alpha-2 code in capitals (DE, US)"))
        }
        if !(1...1024).contains(maxInFlight) { found.append(("maxInFlight", "must be 1-1024")) }
        if timeouts.request.duration < .milliseconds(100) { found.append(("timeouts.request", "must be at least 100ms")) }
        if breaker.failureThreshold < 1 { found.append(("breaker.failureThreshold", "must be at least 1")) }
        if let webhooks, webhooks.secret.isEmpty { found.append(("webhooks.secret", "must not be empty")) }
        if let callbackURL, URL(string: callbackURL)?.host == nil { found.append(("callbackURL", "must be an http(s) URL")) }
        if adapter == .printful, auth.kind == .apiKey { found.append(("auth.kind", "printful authenticates with bearer or oauth2")) }
        return found
    }

    /// The secret values of this vendor, to scrub from anything we print.
    public var secrets: [String] {
        [auth.apiKey, auth.token, auth.clientSecret, webhooks?.secret].compactMap { $0 }.filter { !$0.isEmpty }
    }
}
