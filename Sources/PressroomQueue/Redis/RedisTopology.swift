/// How the process reaches Redis. Every ``RedisClient`` is built from one,
/// so the way Redis is deployed is decided once, in config, and the queue,
/// the order store and the CLI never care which it is.
public enum RedisTopology: Sendable, Equatable, CustomStringConvertible {
    /// One redis-server (`redis.url`).
    case single(RedisEndpoint)
    /// A Redis Cluster (`redis.cluster`): requests are routed per hash slot.
    case cluster(RedisClusterConfiguration)
    /// A master found through Redis Sentinel (`redis.sentinel`), followed across failovers.
    case sentinel(RedisSentinelConfiguration)

    /// Safe for logs: passwords masked.
    public var description: String {
        switch self {
        case .single(let endpoint): return endpoint.description
        case .cluster(let cluster): return cluster.description
        case .sentinel(let configuration): return configuration.description
        }
    }
}
