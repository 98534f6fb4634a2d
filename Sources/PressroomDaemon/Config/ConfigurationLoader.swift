import Foundation
import PressroomFulfillment
import PressroomQueue
import PressroomStorage
import PressroomSupport
import Yams

/// Reads the YAML file, applies `PRESSROOM_…` environment overrides and
/// validates the result, with errors that name the offending field.
///
/// An override names a field by its path in upper snake case:
/// `redis.url` ← `PRESSROOM_REDIS_URL`, `queues.derive.concurrency` ←
/// `PRESSROOM_QUEUES_DERIVE_CONCURRENCY`, `drainTimeout` ← `PRESSROOM_DRAIN_TIMEOUT`.
public struct ConfigurationLoader {
    public struct Loaded: Sendable {
        public var configuration: PressroomConfiguration
        /// Environment variables applied, by field path.
        public var overrides: [String: String]
        /// `PRESSROOM_…` variables that matched no field (typos, or not config).
        public var unmatched: [String]
        /// The variable an unmatched one was probably meant to be, by name.
        public var suggestions: [String: String] = [:]

        /// "$PRESSROOM_QUEUES_DERIVE_CONCURENCY matches no config field; did you mean …?", one per variable.
        public var warnings: [String] {
            unmatched.map { name in
                "$\(name) matches no config field" + (suggestions[name].map { "; did you mean $\($0)?" } ?? "")
            }
        }
    }

    public struct Invalid: Error, CustomStringConvertible, Equatable {
        public let field: String
        public let problem: String
        public var description: String { field.isEmpty ? "config: \(problem)" : "config field '\(field)': \(problem)" }
    }

    /// Variables our scripts and tests use that are not config fields.
    static let ignoredVariables: Set<String> = ["PRESSROOM_CONFIG", "PRESSROOM_VAR", "PRESSROOM_ROOT"]

    public init() {}

    public func load(file: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Loaded {
        var tree: [String: Any] = [:]
        if let file {
            let text: String
            do {
                text = try String(contentsOfFile: file, encoding: .utf8)
            } catch {
                throw Invalid(field: "", problem: "cannot read \(file): \(error.localizedDescription)")
            }
            do {
                if let loaded = try Yams.load(yaml: text) {
                    guard let mapping = loaded as? [String: Any] else {
                        throw Invalid(field: "", problem: "\(file) must be a YAML mapping at the top level")
                    }
                    tree = mapping
                }
            } catch let error as Invalid {
                throw error
            } catch {
                throw Invalid(field: "", problem: "\(file) is not valid YAML: \(error)")
            }
        }
        try mergeVendorsFile(into: &tree, environment: environment)
        let defaults = (try? Yams.load(yaml: YAMLEncoder().encode(PressroomConfiguration()))) as? [String: Any] ?? [:]
        let exemplar = (try? Yams.load(yaml: YAMLEncoder().encode(Self.schemaExemplar))) as? [String: Any] ?? [:]
        let schema = Self.merge(defaults, exemplar)
        var overrides: [String: String] = [:]
        var unmatched: [String] = []
        for (name, value) in environment.sorted(by: { $0.key < $1.key })
        where name.hasPrefix("PRESSROOM_") && !name.hasPrefix("PRESSROOM_TEST_") && !Self.ignoredVariables.contains(name) {
            let rest = String(name.dropFirst("PRESSROOM_".count))
            guard let path = Self.resolve(rest, tree: tree, schema: schema) else {
                unmatched.append(name)
                continue
            }
            // Scalars and lists (`[uploads/, incoming/]`) are typed as YAML; mappings are not fields.
            let typed: Any = (try? Yams.load(yaml: value)).flatMap { $0 is [String: Any] ? nil : $0 } ?? value
            // A section the file leaves out has its defaults; start from them
            // so overriding one field does not drop the others.
            if tree[path[0]] == nil, let section = defaults[path[0]] { tree[path[0]] = section }
            Self.set(&tree, path: path, value: typed)
            overrides[path.joined(separator: ".")] = name
        }
        var configuration = try decode(tree)
        try resolveSecrets(&configuration, environment: environment)
        try validate(configuration)
        var loaded = Loaded(configuration: configuration, overrides: overrides, unmatched: unmatched)
        if !unmatched.isEmpty {
            let known = Self.variables(Self.merge(tree, schema))
            for name in unmatched {
                loaded.suggestions[name] = StrictDecoding.nearest(name, among: known, maxDistance: 3)
            }
        }
        return loaded
    }

    /// Reads the vendors file `fulfillment.vendors` names (the environment
    /// may name it too) into the tree's `vendors` section, so its fields get
    /// the same `PRESSROOM_VENDORS_<NAME>_<FIELD>` overrides, secret handling
    /// and error style as the main file.
    func mergeVendorsFile(into tree: inout [String: Any], environment: [String: String]) throws {
        let section = tree["fulfillment"] as? [String: Any]
        guard let path = environment["PRESSROOM_FULFILLMENT_VENDORS"] ?? section?["vendors"] as? String, !path.isEmpty else { return }
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw Invalid(field: "fulfillment.vendors", problem: "cannot read \(path): \(error.localizedDescription)")
        }
        let loaded: Any?
        do {
            loaded = try Yams.load(yaml: text)
        } catch {
            throw Invalid(field: "fulfillment.vendors", problem: "\(path) is not valid YAML: \(error)")
        }
        guard let mapping = loaded as? [String: Any], let vendors = mapping["vendors"] as? [String: Any] else {
            throw Invalid(field: "fulfillment.vendors", problem: "\(path) must be a mapping with a 'vendors:' section")
        }
        if let extra = mapping.keys.first(where: { $0 != "vendors" }) {
            throw Invalid(field: "fulfillment.vendors", problem: "\(path): unknown top-level key '\(extra)' (only 'vendors')")
        }
        var merged = tree["vendors"] as? [String: Any] ?? [:]
        for (name, vendor) in vendors { merged[name] = vendor }
        tree["vendors"] = merged
    }

    /// Replaces `credential:`/`file:`/`env:` references in every secret
    /// field (``PressroomConfiguration/visitSecrets(_:)``) with what they name.
    func resolveSecrets(_ c: inout PressroomConfiguration, environment: [String: String]) throws {
        try c.visitSecrets { value, field in
            value = try SecretSource.resolve(value, field: field, environment: environment)
        }
    }

    private func decode(_ tree: [String: Any]) throws -> PressroomConfiguration {
        do {
            let yaml = try Yams.dump(object: tree)
            // Strict: a misspelt key anywhere (the file, vendors.yaml) is an error, not a default.
            return try YAMLDecoder().decode(Strictly<PressroomConfiguration>.self, from: yaml).value
        } catch {
            if let unknown = StrictDecoding.unknownKey(in: error) { throw Self.describe(unknown) }
            if let error = error as? DecodingError { throw Self.describe(error) }
            throw error
        }
    }

    static func describe(_ error: DecodingError) -> Invalid {
        func path(_ context: DecodingError.Context, _ extra: CodingKey? = nil) -> String {
            (context.codingPath + (extra.map { [$0] } ?? [])).map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            return Invalid(field: path(context, key), problem: "is required")
        case .typeMismatch(let type, let context):
            return Invalid(field: path(context), problem: "expected \(Self.describe(type))")
        case .valueNotFound(let type, let context):
            return Invalid(field: path(context), problem: "expected \(Self.describe(type)), found nothing")
        case .dataCorrupted(let context):
            return Invalid(field: path(context), problem: context.debugDescription)
        @unknown default:
            return Invalid(field: "", problem: "\(error)")
        }
    }

    /// "config field 'queus': unknown key; did you mean 'queues'?"
    static func describe(_ unknown: StrictDecoding.UnknownKey) -> Invalid {
        if let suggestion = unknown.suggestion {
            return Invalid(field: unknown.field, problem: "unknown key; did you mean '\(suggestion)'?")
        }
        let place = unknown.path.isEmpty ? "at the top level" : "in '\(unknown.path.joined(separator: "."))'"
        return Invalid(field: unknown.field, problem: "unknown key (known \(place): \(unknown.known.joined(separator: ", ")))")
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is Int.Type: return "a whole number"
        case is Double.Type: return "a number"
        case is Bool.Type: return "true or false"
        case is String.Type: return "a string"
        default: return "\(type)"
        }
    }

    public func validate(_ c: PressroomConfiguration) throws {
        do {
            _ = try RedisEndpoint(url: c.redis.url ?? PressroomConfiguration.Redis.defaultURL)
        } catch {
            throw Invalid(field: "redis.url", problem: "\(error)")
        }
        if let sentinel = c.redis.sentinel {
            guard c.redis.url == nil else {
                throw Invalid(field: "redis.sentinel", problem: "is an alternative to redis.url: set one of them, not both")
            }
            guard !sentinel.masterName.isEmpty, !sentinel.masterName.contains(where: \.isWhitespace) else {
                throw Invalid(field: "redis.sentinel.masterName", problem: "must be the non-empty name the sentinels monitor the master under")
            }
            guard !sentinel.sentinels.isEmpty else {
                throw Invalid(field: "redis.sentinel.sentinels", problem: "must list at least one sentinel as host:port (three or more for a quorum)")
            }
            for (index, address) in sentinel.sentinels.enumerated() {
                do {
                    _ = try RedisSentinelConfiguration.Address(parsing: address)
                } catch let error as RedisError {
                    throw Invalid(field: "redis.sentinel.sentinels[\(index)]", problem: error.message)
                }
            }
        }
        if let cluster = c.redis.cluster {
            guard c.redis.url == nil, c.redis.sentinel == nil else {
                throw Invalid(field: "redis.cluster", problem: "is an alternative to redis.url and redis.sentinel: set one of them")
            }
            guard !cluster.seeds.isEmpty else {
                throw Invalid(field: "redis.cluster.seeds", problem: "list at least one host:port of the cluster")
            }
            _ = try c.redisTopology
        }
        guard !c.redis.namespace.isEmpty, !c.redis.namespace.contains(where: { "{}: ".contains($0) }) else {
            throw Invalid(field: "redis.namespace", problem: "must be non-empty without '{', '}', ':' or spaces")
        }
        if let consumer = c.consumer, consumer.isEmpty || consumer.contains(where: \.isWhitespace) {
            throw Invalid(field: "consumer", problem: "must be non-empty without spaces")
        }
        guard ["logfmt", "json"].contains(c.log.format) else {
            throw Invalid(field: "log.format", problem: "must be logfmt or json")
        }
        guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(c.log.level) else {
            throw Invalid(field: "log.level", problem: "must be one of trace, debug, info, notice, warning, error, critical")
        }
        guard (0...65535).contains(c.admin.port) else { throw Invalid(field: "admin.port", problem: "must be 0-65535") }
        if c.admin.enabled && c.admin.console.enabled { try c.admin.console.validate(host: c.admin.host) }
        guard !c.queues.isEmpty else { throw Invalid(field: "queues", problem: "at least one queue is needed") }
        for (name, queue) in c.queues {
            guard !name.isEmpty, !name.contains(where: { "{}: ".contains($0) }) else {
                throw Invalid(field: "queues.\(name)", problem: "queue names must not contain '{', '}', ':' or spaces")
            }
            guard (1...1024).contains(queue.concurrency) else {
                throw Invalid(field: "queues.\(name).concurrency", problem: "must be 1-1024")
            }
            if let batch = queue.batchSize, batch < 1 { throw Invalid(field: "queues.\(name).batchSize", problem: "must be at least 1") }
            guard (1...256).contains(queue.partitions) else { throw Invalid(field: "queues.\(name).partitions", problem: "must be 1-256") }
            if let drain = queue.drainPartitions, !(queue.partitions...256).contains(drain) {
                throw Invalid(field: "queues.\(name).drainPartitions", problem: "must be between partitions (\(queue.partitions)) and 256")
            }
            guard queue.maxDeliveries >= 1 else { throw Invalid(field: "queues.\(name).maxDeliveries", problem: "must be at least 1") }
            guard queue.claimMinIdle.duration >= .milliseconds(100) else {
                throw Invalid(field: "queues.\(name).claimMinIdle", problem: "must be at least 100ms")
            }
            guard queue.batchWait.duration >= .zero, queue.batchWait.duration <= .seconds(1) else {
                throw Invalid(field: "queues.\(name).batchWait", problem: "must be between 0ms and 1s")
            }
            guard queue.block.duration >= .milliseconds(1), queue.block.duration <= .seconds(30) else {
                throw Invalid(field: "queues.\(name).block", problem: "must be between 1ms and 30s")
            }
            if queue.trim.maxLength != nil && queue.trim.maxAge != nil {
                throw Invalid(field: "queues.\(name).trim", problem: "set maxLength or maxAge, not both")
            }
            if let length = queue.trim.maxLength, length < 1 { throw Invalid(field: "queues.\(name).trim.maxLength", problem: "must be at least 1") }
        }
        try validateLifecycle(c)
        guard c.imaging.minShortSide >= 1 else { throw Invalid(field: "imaging.minShortSide", problem: "must be at least 1") }
        guard c.imaging.masterRowBudget >= 0 else { throw Invalid(field: "imaging.masterRowBudget", problem: "must be 0 (no cap) or a number of bytes") }
        guard c.imaging.maxAspectRatio >= 1 else { throw Invalid(field: "imaging.maxAspectRatio", problem: "must be at least 1 (long side over short side)") }
        for (type, job) in c.jobs {
            guard c.queues[job.queue] != nil else {
                throw Invalid(field: "jobs.\(type).queue", problem: "names queue '\(job.queue)', which is not under 'queues' (\(c.queues.keys.sorted().joined(separator: ", ")))")
            }
            guard job.maxAttempts >= 1 else { throw Invalid(field: "jobs.\(type).maxAttempts", problem: "must be at least 1") }
            guard job.multiplier >= 1 else { throw Invalid(field: "jobs.\(type).multiplier", problem: "must be at least 1") }
            guard (0...1).contains(job.jitter) else { throw Invalid(field: "jobs.\(type).jitter", problem: "must be between 0 and 1") }
        }
        try validateFulfillment(c)
    }

    func validateFulfillment(_ c: PressroomConfiguration) throws {
        let f = c.fulfillment
        guard f.presignExpiry.duration >= .seconds(60), f.presignExpiry.duration <= .seconds(7 * 86400) else {
            throw Invalid(field: "fulfillment.presignExpiry", problem: "must be between 1m and 7d (the longest a SigV4 presigned URL lives)")
        }
        guard !f.masterPrefixes.isEmpty, !f.masterPrefixes.contains("") else {
            throw Invalid(field: "fulfillment.masterPrefixes", problem: "list at least one non-empty prefix")
        }
        guard f.reconcile.limit >= 1 else { throw Invalid(field: "fulfillment.reconcile.limit", problem: "must be at least 1") }
        guard f.gaugeInterval.duration >= .seconds(1) else { throw Invalid(field: "fulfillment.gaugeInterval", problem: "must be at least 1s") }
        for name in c.vendors.keys.sorted() {
            guard !name.isEmpty, name.allSatisfy({ ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "-" }) else {
                throw Invalid(field: "vendors.\(name)", problem: "vendor names are lower-case letters, digits and '-'")
            }
            if let problem = c.vendors[name]!.problems().first {
                throw Invalid(field: "vendors.\(name).\(problem.field)", problem: problem.problem)
            }
        }
        if !c.vendors.isEmpty, c.queues[FulfillmentJobs.queue] == nil, c.jobs[FulfillJob.type] == nil {
            throw Invalid(field: "queues.\(FulfillmentJobs.queue)", problem: "vendors are configured, so the fulfill queue is needed")
        }
    }

    private func validateLifecycle(_ c: PressroomConfiguration) throws {
        if let scan = c.scan {
            do {
                _ = try scan.clientOptions
            } catch {
                throw Invalid(field: "scan.address", problem: "\(error)")
            }
            guard scan.streamMaxLength >= 1 else { throw Invalid(field: "scan.streamMaxLength", problem: "must be at least 1") }
            guard (1...(64 << 20)).contains(scan.chunkBytes) else { throw Invalid(field: "scan.chunkBytes", problem: "must be 1 to 67108864") }
            guard (1...256).contains(scan.connections) else { throw Invalid(field: "scan.connections", problem: "must be 1-256") }
            guard scan.timeout.duration >= .milliseconds(100) else { throw Invalid(field: "scan.timeout", problem: "must be at least 100ms") }
            if scan.onInfected == .quarantine {
                guard !scan.quarantinePrefix.isEmpty, !c.imaging.sourcePrefixes.contains(where: { scan.quarantinePrefix.hasPrefix($0) || $0.hasPrefix(scan.quarantinePrefix) }) else {
                    throw Invalid(field: "scan.quarantinePrefix", problem: "must be set and must not overlap imaging.sourcePrefixes (a quarantined file must never be readable as a source)")
                }
            }
        }
        guard c.retention.drafts.duration > .zero else { throw Invalid(field: "retention.drafts", problem: "must be longer than 0") }
        guard c.retention.orders.duration > .zero else { throw Invalid(field: "retention.orders", problem: "must be longer than 0") }
        guard (1...1000).contains(c.retention.pageSize) else { throw Invalid(field: "retention.pageSize", problem: "must be 1-1000") }
        guard c.retention.writeLease.duration >= .seconds(1) else { throw Invalid(field: "retention.writeLease", problem: "must be at least 1s") }
        if let prefixes = c.retention.prefixes, prefixes.contains(where: \.isEmpty) || prefixes.isEmpty {
            throw Invalid(field: "retention.prefixes", problem: "must list non-empty prefixes (the whole store is never swept)")
        }
        guard c.quotas.maxWait.duration >= .seconds(1) else { throw Invalid(field: "quotas.maxWait", problem: "must be at least 1s") }
        for (name, limits) in [("defaults", c.quotas.defaults)] + c.quotas.shops.map({ ("shops.\($0.key)", Optional($0.value)) }) {
            guard let limits else { continue }
            if name != "defaults", !QuotaGate.isValidShop(String(name.dropFirst("shops.".count))) {
                throw Invalid(field: "quotas.\(name)", problem: "shop names are 1-64 of A-Z a-z 0-9 . _ -")
            }
            for (type, rate) in limits.jobsPerMinute where !(rate > 0) {
                throw Invalid(field: "quotas.\(name).jobsPerMinute.\(type)", problem: "must be more than 0")
            }
            if let bytes = limits.bytesPerDay, bytes < 1 { throw Invalid(field: "quotas.\(name).bytesPerDay", problem: "must be at least 1") }
        }
    }

    // MARK: Environment paths

    /// A configuration with every optional field set, so that its encoding
    /// lists every path an environment variable may name.
    static var schemaExemplar: PressroomConfiguration {
        var c = PressroomConfiguration()
        c.consumer = "x"
        c.redis.password = "x"
        c.redis.url = "x"
        c.redis.sentinel = .init(masterName: "x", sentinels: ["x"], password: "x", sentinelPassword: "x")
        c.redis.cluster = .init(seeds: ["x"], password: "x")
        var queue = PressroomConfiguration.Queue()
        queue.batchSize = 1
        queue.drainPartitions = 1
        queue.trim = .init(maxLength: 1, maxAge: DurationText(.seconds(1)))
        c.queues = ["x": queue]
        var job = PressroomConfiguration.JobType(queue: "x")
        job.timeout = DurationText(.seconds(1))
        c.jobs = ["x": job]
        c.fulfillment.vendors = "x"
        var vendor = VendorConfiguration(adapter: .idempotencyKey, baseURL: "x",
                                         auth: .init(kind: .oauth2, header: "x", apiKey: "x", token: "x", tokenURL: "x", clientID: "x", clientSecret: "x", scope: "x"),
                                         products: ["x": .init(sku: "x", sizing: "x", printArea: "x")], countries: ["x": .init(priority: 1, leadTimeDays: 1, cost: 1)],
                                         breaker: .init(probeTimeout: .seconds(1)),
                                         webhooks: .init(verify: .sharedSecret, secret: "x", header: "x", timestampHeader: "x"))
        vendor.shippingMethods = ["x": "x"]
        vendor.callbackURL = "x"
        vendor.storeID = "x"
        vendor.currency = "x"
        vendor.sandbox = .init(folder: "x", allowedRoots: ["x"], latency: .seconds(1), failureRate: 0.5,
                               inProductionAfter: .seconds(1), shippedAfter: .seconds(1), carrier: "x")
        c.vendors = ["x": vendor]
        c.storage = StorageConfiguration(
            backend: .s3, filesystem: FileSystemStoreConfiguration(root: "x"),
            s3: S3Configuration(bucket: "x", accessKeyID: "x", secretAccessKey: "x", sessionToken: "x", profile: "x"))
        c.scan = ScanSettings(address: "x")
        c.retention.prefixes = ["x"]
        c.quotas.defaults = QuotaSettings.Limits(jobsPerMinute: ["x": 1], bytesPerDay: 1)
        c.quotas.shops = ["x": QuotaSettings.Limits(jobsPerMinute: ["x": 1], bytesPerDay: 1)]
        return c
    }

    /// `claimMinIdle` → `CLAIM_MIN_IDLE`, `accessKeyID` → `ACCESS_KEY_ID`.
    static func snake(_ key: String) -> String {
        let chars = Array(key)
        var out = ""
        for (i, ch) in chars.enumerated() {
            if ch.isUppercase, i > 0, out.last != "_" {
                let prev = chars[i - 1]
                let nextIsLower = i + 1 < chars.count && chars[i + 1].isLowercase
                if prev.isLowercase || prev.isNumber || (prev.isUppercase && nextIsLower) { out.append("_") }
            }
            out.append(ch == "-" ? "_" : Character(ch.uppercased()))
        }
        return out
    }

    static func resolve(_ rest: String, tree: [String: Any]?, schema: [String: Any]?) -> [String]? {
        let keys = Set((tree?.keys).map(Array.init) ?? []).union((schema?.keys).map(Array.init) ?? [])
        // Longest keys first, so `drainTimeout` wins over a key `drain`.
        for key in keys.sorted(by: { snake($0).count > snake($1).count }) {
            let name = snake(key)
            if rest == name { return [key] }
            if rest.hasPrefix(name + "_") {
                let tail = String(rest.dropFirst(name.count + 1))
                var childSchema = schema?[key] as? [String: Any]
                // Any queue or job type has the fields of the default ones and
                // of the exemplar's (optional fields): all of them, merged.
                if childSchema == nil, let parent = schema, parent.values.allSatisfy({ $0 is [String: Any] }) {
                    childSchema = parent.values.compactMap { $0 as? [String: Any] }.reduce([:], merge)
                }
                if let path = resolve(tail, tree: tree?[key] as? [String: Any], schema: childSchema) {
                    return [key] + path
                }
            }
        }
        return nil
    }

    /// Every variable name a field of `tree` answers to (`PRESSROOM_REDIS_URL`, ...).
    static func variables(_ tree: [String: Any], prefix: String = "PRESSROOM") -> [String] {
        tree.flatMap { key, value -> [String] in
            let name = prefix + "_" + snake(key)
            if let child = value as? [String: Any] { return variables(child, prefix: name) }
            return [name]
        }
    }

    static func merge(_ a: [String: Any], _ b: [String: Any]) -> [String: Any] {
        var result = a
        for (key, value) in b {
            if let left = result[key] as? [String: Any], let right = value as? [String: Any] {
                result[key] = merge(left, right)
            } else if result[key] == nil {
                result[key] = value
            }
        }
        return result
    }

    static func set(_ tree: inout [String: Any], path: [String], value: Any) {
        guard let first = path.first else { return }
        if path.count == 1 {
            tree[first] = value
            return
        }
        var child = tree[first] as? [String: Any] ?? [:]
        set(&child, path: Array(path.dropFirst()), value: value)
        tree[first] = child
    }
}
