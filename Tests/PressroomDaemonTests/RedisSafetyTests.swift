import Foundation
import PressroomQueue
import Testing

extension DaemonProcessTests {
    /// An evicting Redis silently drops jobs, so the worker refuses it at
    /// start with a message that names the setting; a Redis without
    /// persistence is accepted with a warning.
    @Test func anEvictingRedisIsRefusedAndOneWithoutPersistenceWarned() async throws {
        let redis = OwnRedis()
        try await redis.start()
        let client = RedisClient(endpoint: RedisEndpoint(address: .tcp(host: "127.0.0.1", port: redis.port)), name: "safety")
        defer { client.shutdown() }
        try await client.call(["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"])
        let env = ["PRESSROOM_REDIS_URL": "redis://127.0.0.1:\(redis.port)"]

        let refused = try Daemon(namespace: "safety", consumer: "evicting", extraEnv: env)
        let status = try await refused.waitExit(timeout: .seconds(60))
        #expect(status != 0)
        #expect(refused.output.contains("maxmemory-policy is 'allkeys-lru'"), "\(refused.output)")
        #expect(refused.output.contains("noeviction"))

        try await client.call(["CONFIG", "SET", "maxmemory-policy", "noeviction"])
        let warned = try Daemon(namespace: "safety", consumer: "volatile", extraEnv: env)
        try await eventually(timeout: .seconds(60), "started with a persistence warning") {
            // Ready, too: a SIGTERM before the signal handlers are installed would kill it outright.
            warned.output.contains("redis persistence is off") && warned.output.contains("worker ready")
        }
        #expect(warned.process.isRunning)
        warned.signal(SIGTERM)
        #expect(try await warned.waitExit() == 0)
    }

    @Test func theServerReportReadsInfo() {
        let info = "# Server\r\nredis_version:7.0.15\r\n\r\n# Replication\r\nrole:master\r\nconnected_slaves:1\r\n"
            + "slave0:ip=127.0.0.1,port=6380,state=online,offset=42,lag=0\r\n# Memory\r\nmaxmemory_policy:noeviction\r\n"
            + "# Persistence\r\naof_enabled:1\r\n"
        let report = RedisServerReport(info: info, saveSchedule: "")
        #expect(report.version == "7.0.15")
        #expect(report.role == "master")
        #expect(report.replicas == ["127.0.0.1:6380"])
        #expect(report.refusal == nil)
        #expect(report.persistenceWarning == nil)
        let volatile = RedisServerReport(info: "maxmemory_policy:volatile-lru\r\naof_enabled:0\r\n", saveSchedule: "")
        #expect(volatile.refusal?.contains("volatile-lru") == true)
        #expect(volatile.persistenceWarning != nil)
        #expect(RedisServerReport(info: "aof_enabled:0\r\n", saveSchedule: "3600 1").persistenceWarning == nil)
    }
}
