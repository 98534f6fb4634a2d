import CHiredis
import Foundation

/// Runs a ``RedisClient``'s batches on a Redis Cluster: a connection per
/// node, each request routed by the hash slot of its first key, and the
/// cluster's "not here" replies followed (see ``RedisClusterRedirect``).
///
/// Automatic pipelining stays: the requests of one batch are grouped per
/// node, written together and their replies read back in order. A request
/// is sent again only on a reply that says it did not run (MOVED, ASK,
/// TRYAGAIN, CLUSTERDOWN, a transaction's EXECABORT after them); a
/// connection lost after writing fails what was unanswered with today's
/// connection error, since it may have run.
///
/// Lives on the client's connection thread only.
final class RedisClusterRouter: @unchecked Sendable {
    /// One request of a batch: its encoded commands, how to decode each
    /// reply, and its waiter.
    struct Work {
        let bytes: [UInt8]
        let decode: (UnsafeMutablePointer<redisReply>) -> Result<any Sendable, Error>
        let finish: ([Result<any Sendable, Error>]) -> Void
        let fail: (Error) -> Void
    }

    private final class Pending {
        let work: Work
        let commands: [ClusterCommand]
        var results: [Result<any Sendable, Error>?]
        var error: Error?

        init(_ work: Work, _ commands: [ClusterCommand]) {
            self.work = work
            self.commands = commands
            self.results = Array(repeating: nil, count: commands.count)
        }
    }

    private enum Target: Hashable {
        case slot(Int)
        case node(RedisClusterNode)
        case any
    }

    /// Some commands of one request, sent together to one node.
    private struct Part {
        let pending: Pending
        var indices: [Int]
        var transaction: Bool
        var target: Target
        var asking = false
        /// A copy of `SCRIPT LOAD` for another master: its reply is not the request's.
        var copy = false
        var backoff = false
        var refresh = false
        /// The redirect that sent it round again, reported when the rounds run out.
        var lastError: String?

        /// The slot of its first keyed command, for retries after TRYAGAIN.
        var slot: Int? { indices.lazy.compactMap { self.pending.commands[$0].slot }.first }
    }

    private enum Reply {
        case value(Result<any Sendable, Error>)
        case redirect(RedisClusterRedirect, String)
    }

    private let configuration: RedisClusterConfiguration
    private let connectTimeout: Duration
    private let commandTimeout: Duration
    private var connections: [RedisClusterNode: RedisConnection] = [:]
    private(set) var map: RedisClusterMap?
    /// Set by MOVED and lost connections: read the map before the next round.
    private var stale = true
    /// Nodes of the map whose last attempt failed. While any is, every batch
    /// reports the outage, so ``RedisHealth`` changes state once per outage
    /// of a shard, not on every batch that happens to miss it.
    private var unreachable: [RedisClusterNode: RedisError] = [:]
    /// Rounds of redirects and retries per batch; with the backoff about 2.5 s of TRYAGAIN/CLUSTERDOWN.
    static let maxRounds = 16
    private static let asking = RESPCommand(CollectionOfOne("ASKING")).bytes

    init(configuration: RedisClusterConfiguration, connectTimeout: Duration, commandTimeout: Duration) {
        self.configuration = configuration
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
    }

    func closeAll() {
        connections = [:]
    }

    /// Runs the batch to its replies; returns the first connection error met (for ``RedisHealth``).
    func execute(_ batch: [Work]) -> RedisError? {
        var connectionError: RedisError?
        if stale || map == nil { refreshMap() }
        var pendings: [Pending] = []
        var parts: [Part] = []
        for work in batch {
            guard let commands = ClusterCommand.scan(work.bytes), !commands.isEmpty else {
                work.fail(RedisError.protocolViolation("a request that does not parse as RESP commands cannot be routed"))
                continue
            }
            let pending = Pending(work, commands)
            pendings.append(pending)
            parts += initialParts(pending)
        }
        var round = 0
        while !parts.isEmpty {
            var order: [RedisClusterNode] = []
            var groups: [RedisClusterNode: [Part]] = [:]
            for part in parts where part.pending.error == nil {
                guard let node = resolve(part.target) else {
                    let error = RedisError.connection("no node of the redis cluster answers (seeds \(configuration.seeds.map(\.description).joined(separator: ",")))")
                    part.pending.error = error
                    connectionError = connectionError ?? error
                    continue
                }
                if groups[node] == nil { order.append(node) }
                groups[node, default: []].append(part)
            }
            var next: [Part] = []
            for node in order {
                next += run(groups[node]!, on: node, connectionError: &connectionError)
            }
            next.removeAll { $0.pending.error != nil }
            // What is answered is handed back now, not after other requests' backoff.
            resumeFinished(&pendings)
            if next.isEmpty { break }
            round += 1
            if round >= Self.maxRounds {
                // Still no node takes it: the cluster is unavailable for these keys, an outage
                // like a lost connection to callers (who back off and retry), though nothing ran.
                for part in next where part.pending.error == nil {
                    let error = RedisError.connection("redis cluster unavailable: \(part.lastError ?? "redirected") (after \(Self.maxRounds) tries)")
                    part.pending.error = error
                    connectionError = connectionError ?? error
                }
                break
            }
            if next.contains(where: \.backoff) {
                Thread.sleep(forTimeInterval: min(0.01 * Double(1 << min(round - 1, 10)), 0.2))
            }
            if stale || next.contains(where: \.refresh) {
                // A MOVED's target knows it owns the slot; a node that has not heard yet would undo the move.
                refreshMap(preferring: next.compactMap { part in
                    if part.refresh, case .node(let node) = part.target { return node }
                    return nil
                })
            }
            parts = next.map { part in
                var part = part
                part.backoff = false
                part.refresh = false
                return part
            }
        }
        for pending in pendings where pending.error == nil && pending.results.contains(where: { $0 == nil }) {
            pending.error = RedisError.protocolViolation("no reply")
        }
        resumeFinished(&pendings)
        return connectionError ?? unreachable.values.first
    }

    /// Resumes the waiters of requests that failed or have every reply, and drops them.
    private func resumeFinished(_ pendings: inout [Pending]) {
        pendings.removeAll { pending in
            if let error = pending.error {
                pending.work.fail(error)
                return true
            }
            guard !pending.results.contains(where: { $0 == nil }) else { return false }
            pending.work.finish(pending.results.map { $0! })
            return true
        }
    }

    /// A transaction goes whole to its first key's slot; other requests are
    /// split into runs of commands with one target.
    private func initialParts(_ pending: Pending) -> [Part] {
        let commands = pending.commands
        if commands.contains(where: { $0.kind == .multi }) {
            let slot = commands.lazy.compactMap(\.slot).first
            return [Part(pending: pending, indices: Array(commands.indices), transaction: true, target: slot.map(Target.slot) ?? .any)]
        }
        var parts: [Part] = []
        for (index, command) in commands.enumerated() {
            switch command.kind {
            case .everyMaster:
                let masters = map?.masters ?? []
                parts.append(Part(pending: pending, indices: [index], transaction: false, target: masters.first.map(Target.node) ?? .any))
                for master in masters.dropFirst() {
                    parts.append(Part(pending: pending, indices: [index], transaction: false, target: .node(master), copy: true))
                }
                continue
            case .keyed(let slot):
                if let last = parts.last, !last.copy, last.target == .slot(slot) {
                    parts[parts.count - 1].indices.append(index)
                    continue
                }
                parts.append(Part(pending: pending, indices: [index], transaction: false, target: .slot(slot)))
            case .keyless, .multi:
                if let last = parts.last, !last.copy, last.target == .any {
                    parts[parts.count - 1].indices.append(index)
                    continue
                }
                parts.append(Part(pending: pending, indices: [index], transaction: false, target: .any))
            }
        }
        return parts
    }

    private func resolve(_ target: Target) -> RedisClusterNode? {
        switch target {
        case .node(let node): return node
        case .slot(let slot): return map?.master(forSlot: slot) ?? anyNode
        case .any: return anyNode
        }
    }

    /// For keyless commands: a master we talk to already, else any master, else a seed.
    private var anyNode: RedisClusterNode? {
        let masters = map?.masters ?? []
        return masters.first { connections[$0] != nil } ?? masters.first ?? configuration.seeds.first
    }

    /// Writes the parts to `node`, reads their replies in order; returns the parts to send again.
    private func run(_ parts: [Part], on node: RedisClusterNode, connectionError: inout RedisError?) -> [Part] {
        var again: [Part] = []
        var answered = 0
        do {
            let connection = try self.connection(to: node)
            for part in parts {
                if part.asking { try connection.write(Self.asking) }
                let bytes = part.pending.work.bytes
                if part.indices.count == part.pending.commands.count {
                    try connection.write(bytes)
                } else {
                    for index in part.indices { try connection.write(Array(bytes[part.pending.commands[index].range])) }
                }
            }
            for part in parts {
                // ASKING's +OK (or an error, which the command's own reply repeats).
                if part.asking { _ = try connection.readReply() }
                var replies: [Reply] = []
                replies.reserveCapacity(part.indices.count)
                for _ in part.indices {
                    let reply = try connection.readReply { pointer -> Reply in
                        let raw = pointer.pointee
                        if raw.type == REDIS_REPLY_ERROR {
                            let message = RawReply.text(raw)
                            if let redirect = RedisClusterRedirect(error: message, from: node) { return .redirect(redirect, message) }
                        }
                        return .value(part.pending.work.decode(pointer))
                    }
                    // A decoder that met a broken connection: the rest of the replies are lost too.
                    if case .value(.failure(let error as RedisError)) = reply, error.kind == .connection { throw error }
                    replies.append(reply)
                }
                answered += 1
                again += settle(part, replies)
            }
            unreachable[node] = nil
        } catch {
            let redisError = error as? RedisError ?? .connection("\(error)")
            unreachable[node] = redisError
            connections[node] = nil
            stale = true
            connectionError = connectionError ?? redisError
            for part in parts.dropFirst(answered) where part.pending.error == nil {
                part.pending.error = redisError
            }
        }
        return again
    }

    /// Stores a part's replies; returns what must be sent again, and where.
    private func settle(_ part: Part, _ replies: [Reply]) -> [Part] {
        if part.transaction {
            // A redirect on a queued command aborted the transaction (EXECABORT); one on EXEC discarded it: nothing ran.
            if let (redirect, message) = replies.lazy.compactMap({ reply -> (RedisClusterRedirect, String)? in
                if case .redirect(let redirect, let message) = reply { return (redirect, message) }
                return nil
            }).first {
                return [redirected(part, indices: part.indices, redirect, message)]
            }
        }
        var redirectedIndices: [(index: Int, redirect: RedisClusterRedirect, message: String)] = []
        for (index, reply) in zip(part.indices, replies) {
            switch reply {
            case .value(let result):
                if !part.copy { part.pending.results[index] = result }
            case .redirect(let redirect, let message):
                redirectedIndices.append((index, redirect, message))
            }
        }
        // Runs of commands with the same redirect go again together, in order.
        var again: [Part] = []
        for item in redirectedIndices {
            if let last = again.last, last.indices.last.map({ $0 < item.index }) == true,
               sameRoute(last, redirected(part, indices: [item.index], item.redirect, item.message)) {
                again[again.count - 1].indices.append(item.index)
            } else {
                again.append(redirected(part, indices: [item.index], item.redirect, item.message))
            }
        }
        return again
    }

    private func sameRoute(_ a: Part, _ b: Part) -> Bool {
        a.target == b.target && a.asking == b.asking && a.backoff == b.backoff
    }

    /// The part again, aimed where the redirect says.
    private func redirected(_ part: Part, indices: [Int], _ redirect: RedisClusterRedirect, _ message: String) -> Part {
        var next = part
        next.indices = indices
        next.lastError = message
        next.asking = false
        let home: Target = next.slot.map(Target.slot) ?? part.target
        switch redirect {
        case .moved(let slot, let node):
            map?.assign(slot: slot, to: node)
            next.target = .node(node)
            next.refresh = true
        case .ask(_, let node):
            // Once, and the map stays: the slot is still the old node's until the migration ends.
            next.target = .node(node)
            next.asking = true
        case .tryAgain:
            next.target = home
            next.backoff = true
        case .stale:
            next.target = home
            next.refresh = true
            next.backoff = true
        }
        return next
    }

    /// Reads the slot map from the first node that answers: `preferring`,
    /// nodes we are connected to, then those of the last map, then the seeds.
    private func refreshMap(preferring: [RedisClusterNode] = []) {
        stale = false
        var candidates: [RedisClusterNode] = []
        for node in preferring + Array(connections.keys).sorted(by: { $0.description < $1.description }) + (map?.nodes ?? []) + configuration.seeds
        where !candidates.contains(node) {
            candidates.append(node)
        }
        for node in candidates {
            do {
                let connection = try self.connection(to: node)
                let read: RedisClusterMap
                let shards = try connection.command(["CLUSTER", "SHARDS"].map { Array($0.utf8) })
                if RedisClusterMap.lacksShards(shards) {
                    read = try RedisClusterMap(slotsReply: try connection.command(["CLUSTER", "SLOTS"].map { Array($0.utf8) }).throwingServerError(),
                                               defaultHost: node.host)
                } else {
                    read = try RedisClusterMap(shardsReply: try shards.throwingServerError(), defaultHost: node.host)
                }
                guard !read.shards.isEmpty else { continue }
                map = read
                let known = Set(read.nodes)
                for stray in connections.keys where !known.contains(stray) { connections[stray] = nil }
                // A failed master replaced by its replica is no longer an outage.
                unreachable = unreachable.filter { known.contains($0.key) }
                return
            } catch {
                connections[node] = nil
            }
        }
        stale = true
    }

    private func connection(to node: RedisClusterNode) throws -> RedisConnection {
        if let connection = connections[node] { return connection }
        let connection = try RedisConnection(endpoint: configuration.endpoint(node), connectTimeout: connectTimeout, commandTimeout: commandTimeout)
        connections[node] = connection
        return connection
    }
}

extension RedisClient.Request {
    /// The request as the cluster router runs it: each reply decoded as the
    /// waiter wants it, the waiter resumed with all of them.
    var routed: RedisClusterRouter.Work {
        switch waiter {
        case .one(let continuation):
            return .init(bytes: bytes, decode: { .success(RedisConnection.decode($0)) },
                         finish: { continuation.resume(with: $0[0].map { $0 as! RedisValue }) }, fail: fail)
        case .all(let continuation):
            return .init(bytes: bytes, decode: { .success(RedisConnection.decode($0)) },
                         finish: { continuation.resume(returning: $0.map { (try? $0.get()) as? RedisValue ?? .null }) }, fail: fail)
        case .decoded(let decode, let continuation):
            return .init(bytes: bytes, decode: { pointer in Result { try decode(pointer) } },
                         finish: { continuation.resume(with: $0[0]) }, fail: fail)
        case .decodedAll(let decode, let continuation):
            return .init(bytes: bytes, decode: { .success(decode($0)) },
                         finish: { continuation.resume(returning: $0.compactMap { try? $0.get() }) }, fail: fail)
        }
    }
}
