/// Where a Redis Cluster is (`redis.cluster`): any few of its nodes to ask
/// for the slot map, and the password every node shares.
public struct RedisClusterConfiguration: Sendable, Equatable, CustomStringConvertible {
    public var seeds: [RedisClusterNode]
    public var username: String?
    public var password: String?

    public init(seeds: [RedisClusterNode], username: String? = nil, password: String? = nil) {
        self.seeds = seeds
        self.username = username
        self.password = password
    }

    /// The endpoint of one node, with the cluster's credentials.
    public func endpoint(_ node: RedisClusterNode) -> RedisEndpoint {
        RedisEndpoint(address: .tcp(host: node.host, port: node.port), username: username, password: password)
    }

    /// Safe for logs: no password.
    public var description: String {
        "redis cluster (seeds \(seeds.map(\.description).joined(separator: ",")))" + (password == nil ? "" : ", password ****")
    }
}

/// One node's address, `host:port`.
public struct RedisClusterNode: Hashable, Sendable, CustomStringConvertible, Codable {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port` (the last colon splits, so `::1:7000` works); an
    /// empty host is `defaultHost` (a `MOVED 1 :7000` means the same host).
    public init?(_ text: Substring, defaultHost: String? = nil) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port) else { return nil }
        let host = String(text[..<colon])
        guard let resolved = host.isEmpty ? defaultHost : host else { return nil }
        self.host = resolved
        self.port = port
    }

    public var description: String { "\(host):\(port)" }
}

/// The cluster's slot map: for each of the 16384 slots, the master serving
/// it; and per shard its slot ranges and replicas (for `pressroom status`).
/// Read from `CLUSTER SHARDS` (Redis 7) or `CLUSTER SLOTS` (older servers).
public struct RedisClusterMap: Sendable, Equatable {
    public struct Shard: Sendable, Equatable, Codable {
        public var master: RedisClusterNode
        public var replicas: [RedisClusterNode]
        /// Inclusive ranges.
        public var slots: [ClosedRange<Int>]

        public var slotCount: Int { slots.reduce(0) { $0 + $1.count } }

        /// `0-5460 10923` style.
        public var slotText: String {
            slots.map { $0.lowerBound == $0.upperBound ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)" }.joined(separator: " ")
        }
    }

    public private(set) var shards: [Shard]
    /// Index into `shards` per slot; -1 for an unserved slot.
    private var owner: [Int16]

    public init(shards: [Shard]) {
        let served = shards.filter { !$0.slots.isEmpty }
        self.shards = served
        owner = Array(repeating: -1, count: HashSlot.count)
        for (index, shard) in served.enumerated() {
            for range in shard.slots where range.lowerBound >= 0 && range.upperBound < HashSlot.count {
                for slot in range { owner[slot] = Int16(index) }
            }
        }
    }

    public var masters: [RedisClusterNode] { shards.map(\.master) }

    /// Every node the map knows, masters first.
    public var nodes: [RedisClusterNode] { masters + shards.flatMap(\.replicas) }

    public func master(forSlot slot: Int) -> RedisClusterNode? {
        guard (0..<HashSlot.count).contains(slot), owner[slot] >= 0 else { return nil }
        return shards[Int(owner[slot])].master
    }

    /// After a `MOVED`: the slot is the node's now (until the map is read again).
    mutating func assign(slot: Int, to node: RedisClusterNode) {
        guard (0..<HashSlot.count).contains(slot) else { return }
        if let index = shards.firstIndex(where: { $0.master == node }) {
            owner[slot] = Int16(index)
        } else {
            shards.append(Shard(master: node, replicas: [], slots: []))
            owner[slot] = Int16(shards.count - 1)
        }
    }

    /// `CLUSTER SHARDS`: per shard a map of `slots` (flat start, end pairs)
    /// and `nodes` (maps with `ip`/`endpoint`, `port`, `role`, `health`).
    /// The master is the shard's node with role master that is not failed.
    /// A node that does not know its own address yet (a lone node never met
    /// by another) reports an empty one: then `defaultHost`, the host asked.
    public init(shardsReply reply: RedisValue, defaultHost: String? = nil) throws {
        guard let items = reply.array else { throw RedisError.protocolViolation("CLUSTER SHARDS: not an array") }
        var shards: [Shard] = []
        for item in items {
            let shard = Self.fields(item)
            let bounds = shard["slots"]?.array?.compactMap(\.int).map(Int.init) ?? []
            var ranges: [ClosedRange<Int>] = []
            var index = 0
            while index + 1 < bounds.count {
                if bounds[index] <= bounds[index + 1] { ranges.append(bounds[index]...bounds[index + 1]) }
                index += 2
            }
            var master: RedisClusterNode?
            var replicas: [RedisClusterNode] = []
            for node in shard["nodes"]?.array ?? [] {
                let fields = Self.fields(node)
                let endpoint = fields["endpoint"]?.string.flatMap { $0.isEmpty || $0 == "?" ? nil : $0 }
                let ip = fields["ip"]?.string.flatMap { $0.isEmpty ? nil : $0 }
                guard let host = endpoint ?? ip ?? defaultHost, let port = fields["port"]?.int, port > 0 else { continue }
                let address = RedisClusterNode(host: host, port: Int(port))
                let failed = fields["health"]?.string == "fail"
                if fields["role"]?.string == "master", !failed, master == nil {
                    master = address
                } else if !failed {
                    replicas.append(address)
                }
            }
            if let master { shards.append(Shard(master: master, replicas: replicas, slots: ranges)) }
        }
        self.init(shards: Self.merged(shards))
    }

    /// `CLUSTER SLOTS`: per range `[start, end, [ip, port, id…] master, replicas…]`.
    public init(slotsReply reply: RedisValue, defaultHost: String? = nil) throws {
        guard let items = reply.array else { throw RedisError.protocolViolation("CLUSTER SLOTS: not an array") }
        var shards: [Shard] = []
        for item in items {
            guard let parts = item.array, parts.count >= 3, let start = parts[0].int, let end = parts[1].int, start <= end else { continue }
            let nodes = parts.dropFirst(2).compactMap { node -> RedisClusterNode? in
                guard let fields = node.array, fields.count >= 2, let port = fields[1].int,
                      let host = fields[0].string.flatMap({ $0.isEmpty ? nil : $0 }) ?? defaultHost else { return nil }
                return RedisClusterNode(host: host, port: Int(port))
            }
            guard let master = nodes.first else { continue }
            shards.append(Shard(master: master, replicas: Array(nodes.dropFirst()), slots: [Int(start)...Int(end)]))
        }
        self.init(shards: Self.merged(shards))
    }

    /// One shard per master, ranges sorted (CLUSTER SLOTS lists a master once per range).
    private static func merged(_ shards: [Shard]) -> [Shard] {
        var result: [Shard] = []
        for shard in shards {
            if let index = result.firstIndex(where: { $0.master == shard.master }) {
                result[index].slots += shard.slots
                for replica in shard.replicas where !result[index].replicas.contains(replica) { result[index].replicas.append(replica) }
            } else {
                result.append(shard)
            }
        }
        for index in result.indices { result[index].slots.sort { $0.lowerBound < $1.lowerBound } }
        return result.sorted { ($0.slots.first?.lowerBound ?? 0) < ($1.slots.first?.lowerBound ?? 0) }
    }

    /// A RESP2 map (flat `[k, v, …]`) by key.
    private static func fields(_ value: RedisValue) -> [String: RedisValue] {
        guard let flat = value.array else { return [:] }
        var fields: [String: RedisValue] = [:]
        var index = 0
        while index + 1 < flat.count {
            if let key = flat[index].string { fields[key] = flat[index + 1] }
            index += 2
        }
        return fields
    }
}

/// An error reply that means "not here, or not now": the command did not run
/// and is sent again (after a backoff, or elsewhere).
enum RedisClusterRedirect: Equatable {
    /// The slot lives on another node for good: refresh the map, resend there.
    case moved(slot: Int, node: RedisClusterNode)
    /// The slot is migrating and this key is already on `node`: `ASKING`, then the command, there, once.
    case ask(slot: Int, node: RedisClusterNode)
    /// A multi-key command during a slot migration, or a cluster without
    /// quorum / with unserved slots: back off and retry.
    case tryAgain
    /// A node that changed role under us (a failover: `READONLY`, a blocked
    /// read `UNBLOCKED`): read the map again and resend.
    case stale

    /// - Parameter node: the node that replied (for a `MOVED` without a host).
    init?(error message: String, from node: RedisClusterNode) {
        let parts = message.split(separator: " ")
        guard let code = parts.first else { return nil }
        switch code {
        case "MOVED", "ASK":
            guard parts.count >= 3, let slot = Int(parts[1]), let target = RedisClusterNode(parts[2], defaultHost: node.host) else { return nil }
            self = code == "MOVED" ? .moved(slot: slot, node: target) : .ask(slot: slot, node: target)
        case "TRYAGAIN", "CLUSTERDOWN":
            self = .tryAgain
        case "READONLY", "UNBLOCKED":
            self = .stale
        default:
            return nil
        }
    }
}
