/// What a worker must know of its Redis before it takes work: an evicting
/// Redis silently drops jobs, and one without persistence loses every job on a
/// restart. Read from `INFO` (which managed Redis services keep) and, where
/// allowed, `CONFIG GET save`.
public struct RedisServerReport: Sendable, Equatable, Codable {
    public var version: String?
    /// `master` or `slave`, as `INFO replication` says.
    public var role: String?
    public var connectedReplicas: Int
    /// `ip:port` of each replica a master reports.
    public var replicas: [String]
    public var maxmemoryPolicy: String?
    public var aofEnabled: Bool
    /// The `save` schedule; nil when `CONFIG` is disabled (managed Redis).
    public var rdbSchedule: String?

    public init(info: String, saveSchedule: String?) {
        let fields = Self.parseInfo(info)
        version = fields["redis_version"]
        role = fields["role"]
        connectedReplicas = fields["connected_slaves"].flatMap { Int($0) } ?? 0
        replicas = (0..<connectedReplicas).compactMap { index in
            // slave0:ip=127.0.0.1,port=6380,state=online,offset=...,lag=0
            guard let line = fields["slave\(index)"] else { return nil }
            let parts = Dictionary(line.split(separator: ",").compactMap { pair -> (String, String)? in
                let kv = pair.split(separator: "=", maxSplits: 1)
                return kv.count == 2 ? (String(kv[0]), String(kv[1])) : nil
            }, uniquingKeysWith: { first, _ in first })
            guard let ip = parts["ip"], let port = parts["port"] else { return nil }
            return "\(ip):\(port)"
        }
        maxmemoryPolicy = fields["maxmemory_policy"]
        aofEnabled = fields["aof_enabled"] == "1"
        rdbSchedule = saveSchedule
    }

    /// `INFO` text as `field → value`; section headers and blank lines are skipped.
    public static func parseInfo(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) where !line.hasPrefix("#") {
            let kv = line.split(separator: ":", maxSplits: 1)
            if kv.count == 2 { fields[String(kv[0])] = String(kv[1]) }
        }
        return fields
    }

    /// Why a worker must not start against this server, or nil.
    public var refusal: String? {
        guard let policy = maxmemoryPolicy, policy != "noeviction" else { return nil }
        return "redis maxmemory-policy is '\(policy)': an evicting Redis silently drops jobs. "
            + "Set `maxmemory-policy noeviction` (CONFIG SET maxmemory-policy noeviction, and in redis.conf)"
    }

    /// A warning worth logging at start, or nil.
    public var persistenceWarning: String? {
        guard !aofEnabled else { return nil }
        if let schedule = rdbSchedule, schedule.contains(where: { !$0.isWhitespace }) { return nil }
        if rdbSchedule == nil {
            return "redis has no append-only file (aof_enabled:0) and CONFIG is not allowed to read its save schedule; "
                + "without persistence a Redis restart loses every queued job"
        }
        return "redis persistence is off (no AOF, no save schedule): a Redis restart loses every queued job. "
            + "Set `appendonly yes` (see docs/operations.md)"
    }

    /// Reads the report from a live server.
    public static func fetch(from client: RedisClient) async throws -> RedisServerReport {
        let info = try await client.call(["INFO"]).string ?? ""
        // CONFIG may be renamed or forbidden (managed Redis): then the schedule is unknown.
        var schedule: String?
        if case .array(let values) = try await client.send(["CONFIG", "GET", "save"]), values.count == 2 {
            schedule = values[1].string
        }
        return RedisServerReport(info: info, saveSchedule: schedule)
    }
}
