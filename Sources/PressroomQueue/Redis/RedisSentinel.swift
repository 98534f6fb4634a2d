import Foundation
import Synchronization

/// Where to find a Sentinel-managed master (`redis.sentinel` in config).
public struct RedisSentinelConfiguration: Sendable, Hashable, CustomStringConvertible {
    /// One sentinel, `host:port`.
    public struct Address: Sendable, Hashable, CustomStringConvertible {
        public var host: String
        public var port: Int

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        /// `host:port`, `[v6]:port`; the port defaults to Sentinel's 26379.
        public init(parsing text: String) throws {
            var host = Substring(text)
            var port = 26379
            if host.hasPrefix("[") {
                guard let close = host.firstIndex(of: "]") else { throw RedisError.protocolViolation("'\(text)': unclosed '['") }
                let rest = host[host.index(after: close)...]
                host = host[host.index(after: host.startIndex)..<close]
                if !rest.isEmpty {
                    guard rest.hasPrefix(":"), let p = Int(rest.dropFirst()) else { throw RedisError.protocolViolation("'\(text)': expected [host]:port") }
                    port = p
                }
            } else if let colon = host.lastIndex(of: ":") {
                guard let p = Int(host[host.index(after: colon)...]) else { throw RedisError.protocolViolation("'\(text)': the port must be a number") }
                port = p
                host = host[..<colon]
            }
            guard !host.isEmpty, !host.contains(where: \.isWhitespace) else { throw RedisError.protocolViolation("'\(text)': expected host:port") }
            guard (1...65535).contains(port) else { throw RedisError.protocolViolation("'\(text)': the port must be 1-65535") }
            self.init(host: String(host), port: port)
        }

        public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    public var masterName: String
    public var sentinels: [Address]
    /// AUTH for the master and replicas.
    public var username: String?
    public var password: String?
    /// AUTH for the sentinels (their `requirepass`), which often differs.
    public var sentinelPassword: String?
    public var database: Int

    public init(masterName: String, sentinels: [Address], username: String? = nil, password: String? = nil,
                sentinelPassword: String? = nil, database: Int = 0) {
        self.masterName = masterName
        self.sentinels = sentinels
        self.username = username
        self.password = password
        self.sentinelPassword = sentinelPassword
        self.database = database
    }

    /// Safe for logs: no passwords.
    public var description: String {
        "sentinel master '\(masterName)' via \(sentinels.map(\.description).joined(separator: ","))"
    }
}

/// Finds the current master of a Sentinel-managed Redis, following the
/// Sentinel client guidelines: ask the sentinels in order with a short
/// timeout, move the one that answered to the front, connect, and believe the
/// address only once `ROLE` on the node says master.
///
/// One per configuration per process (``shared(for:)``), so every client
/// learns at once which sentinel answers and when a client met the wrong node:
/// ``generation`` advances, and each ``RedisClient`` drops a connection made
/// in an older generation before its next command.
public final class RedisSentinel: Sendable {
    public let configuration: RedisSentinelConfiguration
    /// The sentinels in the order to try them: the last one that answered first.
    private let order: Mutex<[RedisSentinelConfiguration.Address]>
    private let currentGeneration = Atomic<UInt64>(0)
    /// How long one sentinel may take to connect and answer.
    let sentinelTimeout: Duration
    /// Pause before asking again when the node named is not (yet) master.
    let roleRetryDelay: Duration

    /// How often the process asks whether the master moved (``verifyIfDue()``).
    let verifyInterval: Duration
    private struct Verification {
        var next = ContinuousClock.now
        /// Where the latest connection found the master.
        var master: RedisEndpoint.Address?
    }
    private let verification = Mutex(Verification())

    private static let registry = Mutex<[RedisSentinelConfiguration: RedisSentinel]>([:])

    /// The process's resolver for `configuration`.
    public static func shared(for configuration: RedisSentinelConfiguration) -> RedisSentinel {
        registry.withLock { registry in
            if let known = registry[configuration] { return known }
            let made = RedisSentinel(configuration: configuration)
            registry[configuration] = made
            return made
        }
    }

    init(configuration: RedisSentinelConfiguration, sentinelTimeout: Duration = .milliseconds(500),
         roleRetryDelay: Duration = .milliseconds(200), verifyInterval: Duration = .seconds(1)) {
        self.configuration = configuration
        self.verifyInterval = verifyInterval
        self.order = Mutex(configuration.sentinels)
        self.sentinelTimeout = sentinelTimeout
        self.roleRetryDelay = roleRetryDelay
    }

    /// Advances each time some client met the wrong node, or the master moved.
    public var generation: UInt64 { currentGeneration.load(ordering: .acquiring) }

    /// The sentinels in the order they are tried now.
    public var sentinels: [RedisSentinelConfiguration.Address] { order.withLock { $0 } }

    /// A client met the wrong node on a connection of `generation`: every
    /// connection of that generation is to be dropped. Many clients seeing
    /// the same failover advance the generation once.
    func invalidate(generation: UInt64) {
        _ = currentGeneration.compareExchange(expected: generation, desired: generation &+ 1, ordering: .acquiringAndReleasing)
    }

    /// Asks the sentinels whether the master is still where the latest
    /// connection found it, at most once per ``verifyInterval`` for the whole
    /// process, and advances the generation when it moved. A failover that
    /// leaves the old master up (`SENTINEL FAILOVER`) has it take writes until
    /// Sentinel demotes it, some 10 s later, and those writes are lost; this
    /// bounds that to about a second. (The guidelines' `+switch-master`
    /// subscription would need a connection of its own per process.)
    /// Cheap when not due: every caller but one returns at once. Blocking.
    func verifyIfDue() {
        let now = ContinuousClock.now
        let known = verification.withLock { state -> RedisEndpoint.Address? in
            guard now >= state.next, let master = state.master else { return nil }
            state.next = now + verifyInterval
            return master
        }
        guard let known else { return }
        let generation = self.generation
        guard let named = try? masterEndpoint().address else {
            // No sentinel answers: ask less often, so no client thread keeps waiting on timeouts.
            verification.withLock { $0.next = now + verifyInterval * 5 }
            return
        }
        if named != known {
            invalidate(generation: generation)
            // Known now; the next check must not drop the connections made to it.
            verification.withLock { $0.master = named }
        }
    }

    /// The master's address as the first sentinel that knows it says.
    /// Blocking: call it on a connection thread, never the cooperative pool.
    public func masterEndpoint() throws -> RedisEndpoint {
        var problems: [String] = []
        for sentinel in sentinels {
            do {
                let connection = try connect(to: sentinel)
                let reply = try connection.command(["SENTINEL", "get-master-addr-by-name", configuration.masterName].map { Array($0.utf8) })
                guard let pair = try reply.throwingServerError().array, pair.count == 2,
                      let host = pair[0].string, let port = pair[1].string.flatMap({ Int($0) }) else {
                    problems.append("\(sentinel): does not know master '\(configuration.masterName)'")
                    continue
                }
                promote(sentinel)
                return RedisEndpoint(address: .tcp(host: host, port: port), username: configuration.username,
                                     password: configuration.password, database: configuration.database)
            } catch {
                problems.append("\(sentinel): \(error)")
            }
        }
        throw RedisError.connection("no sentinel gave the master of '\(configuration.masterName)' (\(problems.joined(separator: "; ")))")
    }

    /// A connection to the master, and the generation it belongs to. Asks
    /// again (after a pause) while the node a sentinel names is not master,
    /// as it is not for a moment during a failover.
    func connectMaster(connectTimeout: Duration, commandTimeout: Duration, attempts: Int = 5) throws -> (connection: RedisConnection, generation: UInt64) {
        var lastProblem = ""
        for attempt in 1...attempts {
            let generation = self.generation
            let endpoint = try masterEndpoint()
            let connection = try RedisConnection(endpoint: endpoint, connectTimeout: connectTimeout, commandTimeout: commandTimeout)
            let role = try connection.command([Array("ROLE".utf8)]).throwingServerError()
            let said = role.array?.first?.string ?? "?"
            if said == "master" {
                verification.withLock { $0.master = endpoint.address }
                return (connection, generation)
            }
            lastProblem = "\(endpoint.address) says ROLE \(said)"
            // Other clients' connections to this node are as wrong as this one.
            invalidate(generation: generation)
            if attempt < attempts { Thread.sleep(forTimeInterval: roleRetryDelay.seconds) }
        }
        throw RedisError.connection("the master sentinels name for '\(configuration.masterName)' is not master: \(lastProblem)")
    }

    /// What the sentinels know of the master and its replicas (for `pressroom status`).
    public struct View: Sendable, Equatable {
        public var masterName: String
        public var master: String
        /// `ip:port` and Sentinel's flags (`slave`, `s_down`, ...), per replica.
        public var replicas: [String]
        /// Sentinels that answered, of `sentinelsConfigured`.
        public var sentinelsAnswering: Int
        public var sentinelsConfigured: Int

        /// One line for `pressroom status` and the start-up log.
        public var summary: String {
            "sentinel '\(masterName)': master \(master), "
                + (replicas.isEmpty ? "no replicas" : "replicas " + replicas.joined(separator: " "))
                + ", \(sentinelsAnswering)/\(sentinelsConfigured) sentinels answer"
        }

        /// Why failover is at risk, or nil: a sentinel that does not answer
        /// cannot vote, and without a replica there is nothing to fail over to.
        public var warning: String? {
            if replicas.isEmpty { return "sentinel '\(masterName)' knows no replica: a failover has nothing to promote" }
            if sentinelsAnswering < sentinelsConfigured {
                return "only \(sentinelsAnswering) of \(sentinelsConfigured) configured sentinels answer; a failover needs a quorum of them"
            }
            return nil
        }
    }

    /// Asks each sentinel for the master, and the first that knows it for
    /// the replicas (a client per sentinel: nothing blocks the caller).
    public func view() async throws -> View {
        var answering = 0
        var found: View?
        for sentinel in sentinels {
            let client = RedisClient(endpoint: sentinelEndpoint(sentinel), name: "sentinel-view",
                                     connectTimeout: sentinelTimeout, commandTimeout: sentinelTimeout)
            defer { client.shutdown() }
            guard let pair = try? await client.call(["SENTINEL", "get-master-addr-by-name", configuration.masterName]).array,
                  pair.count == 2 else { continue }
            answering += 1
            if found != nil { continue }
            let replies = (try? await client.call(["SENTINEL", "replicas", configuration.masterName]))?.array ?? []
            let replicas = replies.map { reply -> String in
                let fields = Dictionary(reply.fieldPairs, uniquingKeysWith: { first, _ in first })
                return "\(fields["ip"] ?? "?"):\(fields["port"] ?? "?") (\(fields["flags"] ?? "?"))"
            }
            found = View(masterName: configuration.masterName, master: "\(pair[0].string ?? "?"):\(pair[1].string ?? "?")",
                         replicas: replicas, sentinelsAnswering: 0, sentinelsConfigured: configuration.sentinels.count)
        }
        guard var view = found else { throw RedisError.connection("no sentinel answers for '\(configuration.masterName)'") }
        view.sentinelsAnswering = answering
        return view
    }

    private func sentinelEndpoint(_ sentinel: RedisSentinelConfiguration.Address) -> RedisEndpoint {
        RedisEndpoint(address: .tcp(host: sentinel.host, port: sentinel.port), password: configuration.sentinelPassword)
    }

    private func connect(to sentinel: RedisSentinelConfiguration.Address) throws -> RedisConnection {
        try RedisConnection(endpoint: sentinelEndpoint(sentinel), connectTimeout: sentinelTimeout, commandTimeout: sentinelTimeout)
    }

    /// Moves the sentinel that answered to the front, for every client of the process.
    private func promote(_ sentinel: RedisSentinelConfiguration.Address) {
        order.withLock { order in
            guard let index = order.firstIndex(of: sentinel), index != 0 else { return }
            order.remove(at: index)
            order.insert(sentinel, at: 0)
        }
    }
}
