/// ``RedisServerReport`` for every server that takes writes: the one
/// redis-server, or each master of a cluster with its shard (slots and
/// replicas), so the start-up checks and `pressroom status` see every master.
public struct RedisTopologyReport: Sendable {
    public struct Server: Sendable {
        /// `host:port` of a cluster master; the masked URL of a single server.
        public var name: String
        /// The master's shard, in a cluster.
        public var shard: RedisClusterMap.Shard?
        public var report: RedisServerReport
    }

    public var servers: [Server]

    /// - Parameter client: a client of `topology` (a cluster client reads the slot map through it).
    public static func fetch(topology: RedisTopology, client: RedisClient) async throws -> RedisTopologyReport {
        switch topology {
        case .single, .sentinel:
            return RedisTopologyReport(servers: [Server(name: topology.description, shard: nil, report: try await .fetch(from: client))])
        case .cluster(let configuration):
            let map = try await RedisClusterMap.fetch(from: client, defaultHost: configuration.seeds.first?.host)
            var servers: [Server] = []
            for shard in map.shards {
                let node = RedisClient(endpoint: configuration.endpoint(shard.master), name: "check-\(shard.master.port)")
                defer { node.shutdown() }
                servers.append(Server(name: shard.master.description, shard: shard, report: try await .fetch(from: node)))
            }
            return RedisTopologyReport(servers: servers)
        }
    }

    /// Why a worker must not start: the first master that would drop jobs.
    public var refusal: String? {
        servers.lazy.compactMap { server in server.report.refusal.map { server.shard == nil ? $0 : "\(server.name): \($0)" } }.first
    }

    /// One warning per master without persistence.
    public var warnings: [String] {
        servers.compactMap { server in server.report.persistenceWarning.map { server.shard == nil ? $0 : "\(server.name): \($0)" } }
    }

    /// What `pressroom status` prints about Redis: version, role and
    /// replicas of the server, or per shard its master, slots and replicas.
    public var lines: [String] {
        servers.map { server in
            let r = server.report
            let settings = "maxmemory-policy \(r.maxmemoryPolicy ?? "?"), aof \(r.aofEnabled ? "on" : "off")"
            guard let shard = server.shard else {
                return "redis \(r.version ?? "?") \(r.role ?? "?")"
                    + (r.replicas.isEmpty ? ", no replicas" : ", replicas " + r.replicas.joined(separator: " ")) + ", " + settings
            }
            return "redis cluster shard \(server.name) (redis \(r.version ?? "?")) slots \(shard.slotText) (\(shard.slotCount))"
                + (shard.replicas.isEmpty ? ", no replicas" : ", replicas " + shard.replicas.map(\.description).joined(separator: " ")) + ", " + settings
        }
    }
}

extension RedisClusterMap {
    /// Reads the map through any client of the cluster (or one of its nodes).
    public static func fetch(from client: RedisClient, defaultHost: String? = nil) async throws -> RedisClusterMap {
        let shards = try await client.send(["CLUSTER", "SHARDS"])
        if lacksShards(shards) {
            return try RedisClusterMap(slotsReply: try await client.call(["CLUSTER", "SLOTS"]), defaultHost: defaultHost)
        }
        return try RedisClusterMap(shardsReply: try shards.throwingServerError(), defaultHost: defaultHost)
    }

    /// A `CLUSTER SHARDS` error reply from a server before 7.0, which has only `CLUSTER SLOTS`.
    static func lacksShards(_ reply: RedisValue) -> Bool {
        if case .error(let message) = reply { return message.localizedCaseInsensitiveContains("unknown") }
        return false
    }
}
