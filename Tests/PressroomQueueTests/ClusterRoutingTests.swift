@testable import PressroomQueue
import Testing

/// Cluster routing's pure parts against replies recorded from redis 7.0 (Debian 12):
/// hash slots, where a command's key is, redirects, and the slot map from CLUSTER SHARDS / SLOTS.
@Suite struct ClusterRoutingTests {
    @Test func hashSlotsFollowTheClusterSpecification() {
        // The specification's CRC16 check value, and slots `CLUSTER KEYSLOT` gave.
        var check = "123456789"
        #expect(check.withUTF8 { HashSlot.crc16($0) } == 0x31C3)
        #expect(HashSlot.of("foo") == 12182)
        #expect(HashSlot.of("{pressroom:derive}:jobs") == HashSlot.of("pressroom:derive"))
        #expect(HashSlot.of("{pressroom:derive}:job:42") == HashSlot.of("{pressroom:derive}:events"))
        // An empty tag hashes the whole key; only the first tag counts.
        #expect(HashSlot.of("{}x") != HashSlot.of("x"))
        #expect(HashSlot.of("a{b}{c}") == HashSlot.of("b"))
        #expect(HashSlot.of("{x") != HashSlot.of("x"))
    }

    func kinds(_ pipeline: RESPPipeline) -> [ClusterCommand.Kind]? {
        ClusterCommand.scan(pipeline.bytes)?.map(\.kind)
    }

    @Test func commandsAreRoutedByTheirFirstKey() {
        let slot = HashSlot.of("{ns:q}")
        var pipeline = RESPPipeline()
        pipeline.append(["EVALSHA", "abc", "2", "{ns:q}:jobs", "{other}:x", "arg"])
        pipeline.append(["EVAL", "return 1", "0"])
        pipeline.append(["XREADGROUP", "GROUP", "g", "c", "COUNT", "10", "BLOCK", "1000", "STREAMS", "{ns:q}:jobs", ">"])
        pipeline.append(["XINFO", "GROUPS", "{ns:q}:jobs"])
        pipeline.append(["SET", "{ns:q}:job:1", "v", "NX"])
        pipeline.append(["PING"])
        pipeline.append(["SCRIPT", "LOAD", "return 1"])
        pipeline.append(["cluster", "shards"])
        #expect(kinds(pipeline) == [.keyed(slot: slot), .keyless, .keyed(slot: slot), .keyed(slot: slot), .keyed(slot: slot),
                                    .keyless, .everyMaster, .keyless])
        var transaction = RESPPipeline()
        transaction.append(CollectionOfOne("MULTI"))
        transaction.append(["XACK", "{ns:q}:jobs", "g", "1-1"])
        transaction.append(argumentCount: 3) { $0.add("INCRBY"); $0.add("{ns:q}:n"); $0.add(1) }
        transaction.append(CollectionOfOne("EXEC"))
        let commands = ClusterCommand.scan(transaction.bytes)
        #expect(commands?.map(\.kind) == [.multi, .keyed(slot: slot), .keyed(slot: slot), .keyless])
        // The ranges cover the bytes exactly, command after command.
        #expect(commands?.first?.range.lowerBound == 0)
        #expect(commands?.last?.range.upperBound == transaction.bytes.count)
        #expect(ClusterCommand.scan(Array("*2\r\n$3\r\nGET\r\n".utf8)) == nil, "a truncated command does not parse")
    }

    @Test func redirectsAreReadFromErrorReplies() {
        let node = RedisClusterNode(host: "127.0.0.1", port: 7000)
        #expect(RedisClusterRedirect(error: "MOVED 3999 127.0.0.1:6381", from: node) == .moved(slot: 3999, node: RedisClusterNode(host: "127.0.0.1", port: 6381)))
        #expect(RedisClusterRedirect(error: "ASK 3999 10.0.0.2:6380", from: node) == .ask(slot: 3999, node: RedisClusterNode(host: "10.0.0.2", port: 6380)))
        // No endpoint known to the server: the same host, another port.
        #expect(RedisClusterRedirect(error: "MOVED 12 :7002", from: node) == .moved(slot: 12, node: RedisClusterNode(host: "127.0.0.1", port: 7002)))
        #expect(RedisClusterRedirect(error: "MOVED 12 ::1:7002", from: node) == .moved(slot: 12, node: RedisClusterNode(host: "::1", port: 7002)))
        #expect(RedisClusterRedirect(error: "TRYAGAIN Multiple keys request during rehashing of slot", from: node) == .tryAgain)
        #expect(RedisClusterRedirect(error: "CLUSTERDOWN Hash slot not served", from: node) == .tryAgain)
        #expect(RedisClusterRedirect(error: "CLUSTERDOWN The cluster is down", from: node) == .tryAgain)
        #expect(RedisClusterRedirect(error: "UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)", from: node) == .stale)
        #expect(RedisClusterRedirect(error: "READONLY You can't write against a read only replica.", from: node) == .stale)
        for other in ["NOSCRIPT No matching script. Please use EVAL.", "ERR wrong number of arguments", "EXECABORT Transaction discarded because of previous errors.",
                      "MOVED x 127.0.0.1:1", "MOVED 1 nowhere", "CROSSSLOT Keys in request don't hash to the same slot"] {
            #expect(RedisClusterRedirect(error: other, from: node) == nil, "\(other)")
        }
    }

    static func node(_ id: String, _ port: Int64, role: String, health: String = "online", ip: String = "127.0.0.1") -> RedisValue {
        .array([.bulk(Array("id".utf8)), .bulk(Array(id.utf8)), .bulk(Array("port".utf8)), .integer(port),
                .bulk(Array("ip".utf8)), .bulk(Array(ip.utf8)), .bulk(Array("endpoint".utf8)), .bulk(Array(ip.utf8)),
                .bulk(Array("role".utf8)), .bulk(Array(role.utf8)), .bulk(Array("replication-offset".utf8)), .integer(3402),
                .bulk(Array("health".utf8)), .bulk(Array(health.utf8))])
    }

    static func shard(_ slots: [Int64], _ nodes: [RedisValue]) -> RedisValue {
        .array([.bulk(Array("slots".utf8)), .array(slots.map { .integer($0) }), .bulk(Array("nodes".utf8)), .array(nodes)])
    }

    /// `CLUSTER SHARDS` of a 3+3 cluster after one failover (redis 7.0.15): the old master
    /// of the second shard is back as a replica; another shard has two ranges and a failed replica.
    @Test func theSlotMapComesFromClusterShards() throws {
        let reply = RedisValue.array([
            Self.shard([5461, 10922], [Self.node("b1", 7004, role: "master"), Self.node("b0", 7001, role: "replica")]),
            Self.shard([0, 5460, 16000, 16000], [Self.node("a0", 7000, role: "master"), Self.node("a1", 7003, role: "replica", health: "fail")]),
            Self.shard([10923, 15999, 16001, 16383], [Self.node("c0", 7002, role: "master"), Self.node("c1", 7005, role: "replica")]),
        ])
        let map = try RedisClusterMap(shardsReply: reply)
        #expect(map.masters.map(\.port) == [7000, 7004, 7002], "sorted by first slot")
        #expect(map.master(forSlot: 0)?.port == 7000)
        #expect(map.master(forSlot: 16000)?.port == 7000)
        #expect(map.master(forSlot: 5461)?.port == 7004)
        #expect(map.master(forSlot: 16383)?.port == 7002)
        #expect(map.shards[0].replicas.isEmpty, "a failed replica is not listed")
        #expect(map.shards[1].replicas.map(\.port) == [7001])
        #expect(map.shards[0].slotText == "0-5460 16000")
        #expect(map.shards.map(\.slotCount).reduce(0, +) == 16384)
    }

    /// `CLUSTER SLOTS` (redis 6 and 7): one entry per range, master first, then replicas;
    /// redis 7 adds a map of hostnames per node.
    @Test func theSlotMapComesFromClusterSlotsOnOlderServers() throws {
        func address(_ port: Int64, _ id: String) -> RedisValue {
            .array([.bulk(Array("127.0.0.1".utf8)), .integer(port), .bulk(Array(id.utf8)), .array([])])
        }
        let reply = RedisValue.array([
            .array([.integer(0), .integer(5460), address(7000, "a0"), address(7003, "a1")]),
            .array([.integer(5461), .integer(10922), address(7001, "b0"), address(7004, "b1")]),
            .array([.integer(10923), .integer(16383), address(7002, "c0")]),
        ])
        let map = try RedisClusterMap(slotsReply: reply)
        #expect(map.masters.map(\.port) == [7000, 7001, 7002])
        #expect(map.master(forSlot: 10922)?.port == 7001)
        #expect(map.shards[0].replicas.map(\.port) == [7003])
        var moved = map
        moved.assign(slot: 10922, to: RedisClusterNode(host: "127.0.0.1", port: 7002))
        #expect(moved.master(forSlot: 10922)?.port == 7002, "a MOVED takes effect before the map is read again")
        #expect(moved.master(forSlot: 10921)?.port == 7001)
    }

    /// A lone cluster-mode node that no other node met does not know its own address (redis 7.0.15).
    @Test func aNodeWithoutAnAddressIsTheOneAsked() throws {
        let shards = RedisValue.array([Self.shard([0, 16383], [Self.node("a0", 7000, role: "master", ip: "")])])
        #expect(try RedisClusterMap(shardsReply: shards, defaultHost: "10.1.1.1").masters == [RedisClusterNode(host: "10.1.1.1", port: 7000)])
        #expect(try RedisClusterMap(shardsReply: shards).masters.isEmpty)
        let slots = RedisValue.array([.array([.integer(0), .integer(16383), .array([.bulk([]), .integer(7000), .bulk(Array("a0".utf8))])])])
        #expect(try RedisClusterMap(slotsReply: slots, defaultHost: "10.1.1.1").masters == [RedisClusterNode(host: "10.1.1.1", port: 7000)])
    }
}
