import Foundation
import Logging
import PressroomQueue
import PressroomSupport

/// Order records in Redis: create, compare-and-set transitions, reads, and
/// the per-state indexes reconcile scans. Connection errors are retried with
/// a capped backoff until `redisPatience` has passed (a Redis restart in the
/// middle of a vendor call must not lose the vendor's answer).
public struct OrderStore: Sendable {
    public let keys: OrderKeys
    public let machine: OrderStateMachine
    public let client: RedisClient
    public var eventsMaxLength: Int
    public var redisPatience: Duration

    public init(client: RedisClient, keys: OrderKeys, machine: OrderStateMachine = .standard, eventsMaxLength: Int = 100_000,
                redisPatience: Duration = .seconds(120)) {
        self.client = client
        self.keys = keys
        self.machine = machine
        self.eventsMaxLength = eventsMaxLength
        self.redisPatience = redisPatience
    }

    public static func nowMs() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    /// Runs `body`, retrying Redis connection errors with backoff.
    func retrying<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        let deadline = ContinuousClock.now + redisPatience
        var delay = Duration.milliseconds(50)
        while true {
            do {
                return try await body()
            } catch let error as RedisError where error.kind == .connection || error.serverCode == "LOADING" {
                if ContinuousClock.now + delay > deadline { throw error }
                try await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(2))
            }
        }
    }

    /// Applies one transition atomically.
    public func apply(_ t: OrderTransition, to id: String, now: Int64 = OrderStore.nowMs()) async throws -> TransitionOutcome {
        try await apply(chain: [t], to: id, now: now)[0]
    }

    /// Applies transitions of one order in one atomic script call, in order,
    /// stopping after the first that neither creates nor applies: its outcome
    /// is the last one returned, and the ones after it were not tried. A new
    /// order is created, routed and given its first intent this way, in one
    /// round trip, with every step still a compare-and-set of its own.
    public func apply(chain: [OrderTransition], to id: String, now: Int64 = OrderStore.nowMs()) async throws -> [TransitionOutcome] {
        precondition(!chain.isEmpty, "an empty chain of order transitions")
        let keys = keys.of(order: id)
        let states = machine.entries
        var keyList = [keys.order(id), keys.timeline(id), keys.events, keys.refs, keys.jobs]
        keyList += states.map { keys.index($0.state) }
        let stateTable = states.map { "\($0.state.rawValue):\($0.rank):\($0.terminal ? 1 : 0)" }
        var args: [String] = [String(chain.count), String(stateTable.count)] + stateTable
        for t in chain {
            let mine = Self.arguments(t, id: id, now: now, queue: keys.queue.queue, eventsMaxLength: eventsMaxLength)
            args.append(String(mine.count))
            args += mine
        }
        let finalArgs = args
        let finalKeys = keyList
        let reply = try await retrying {
            try await OrderScripts.transitions.run(on: client, keys: finalKeys, args: finalArgs)
        }
        let outcomes = (reply.array ?? []).compactMap { value -> TransitionOutcome? in
            guard let values = value.array, values.count == 5, let status = values[0].string.flatMap(TransitionOutcome.Status.init(rawValue:)) else { return nil }
            let previous = values[4].string ?? ""
            return TransitionOutcome(status: status, state: OrderState(values[1].string ?? ""), version: Int(values[2].int ?? 0),
                                     createdAt: values[3].int ?? 0, previous: previous.isEmpty ? nil : OrderState(previous))
        }
        guard !outcomes.isEmpty, outcomes.count == reply.array?.count, outcomes.count <= chain.count else {
            throw RedisError.protocolViolation("order-transitions returned \(reply)")
        }
        return outcomes
    }

    /// One transition's script arguments (the layout OrderScripts.transitions documents).
    static func arguments(_ t: OrderTransition, id: String, now: Int64, queue: String, eventsMaxLength: Int) -> [String] {
        var args: [String] = [String(now), id, t.target?.rawValue ?? ""]
        switch t.expected {
        case .create: args.append("-")
        case .any: args.append("")
        case .states(let list): args.append(list.map(\.rawValue).joined(separator: ","))
        }
        args.append(t.expectedVersion.map(String.init) ?? "")
        args.append(queue)
        args.append(String(eventsMaxLength))
        if let timeline = t.timeline {
            var entry = timeline
            entry["at"] = entry["at"] ?? String(now)
            args.append(Self.json(entry))
        } else {
            args.append("")
        }
        func pairs(_ list: [(String, String)]) {
            args.append(String(list.count))
            for (k, v) in list { args.append(k); args.append(v) }
        }
        pairs(t.set)
        args.append(String(t.delete.count))
        args += t.delete
        pairs(t.refs)
        pairs(t.eventFields)
        pairs(t.job ?? [])
        if t.reopen { args.append("1") }
        return args
    }

    /// The record and its timeline, or `nil` when there is no such order.
    /// The order's record; with `timeline: false` its timeline is left empty,
    /// for the submission path, which never looks at it (parsing every entry
    /// on every read grew with the order's history).
    public func read(_ id: String, timeline withTimeline: Bool = true) async throws -> OrderRecord? {
        let keys = keys.of(order: id)
        var pipeline = RESPPipeline()
        pipeline.append(["HGETALL", keys.order(id)])
        if withTimeline { pipeline.append(["LRANGE", keys.timeline(id), "0", "-1"]) }
        let finalPipeline = pipeline
        let replies = try await retrying { try await client.send(finalPipeline) }
        guard replies.count == finalPipeline.count else { throw RedisError.protocolViolation("order read got \(replies.count) replies") }
        try replies[0].throwingServerError()
        let fields = Dictionary(replies[0].fieldPairs, uniquingKeysWith: { a, _ in a })
        guard !fields.isEmpty else { return nil }
        let timeline = (replies.dropFirst().first?.array ?? []).compactMap { value -> [String: String]? in
            guard let text = value.string, let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else { return nil }
            return object.mapValues { "\($0)" }
        }
        return OrderRecord(fields: fields, timeline: timeline)
    }

    /// Some fields of an order's record (nil where missing, all nil for no
    /// such order): for callers that need a few, not the parsed record.
    public func fields(_ names: [String], of id: String) async throws -> [String: String] {
        let key = keys.of(order: id).order(id)
        let reply = try await retrying { try await client.call(["HMGET", key] + names) }
        var found: [String: String] = [:]
        for (name, value) in zip(names, reply.array ?? []) { if let text = value.string { found[name] = text } }
        return found
    }

    /// Order ids in `state` that entered it before `before` (ms), oldest
    /// first, over every partition.
    public func orders(in state: OrderState, enteredBefore before: Int64, limit: Int) async throws -> [String] {
        var found: [(id: String, at: Double)] = []
        for part in keys.partitions {
            let reply = try await retrying {
                try await client.call(["ZRANGEBYSCORE", part.index(state), "-inf", "(\(before)", "WITHSCORES", "LIMIT", "0", String(limit)])
            }
            let values = reply.array ?? []
            for i in stride(from: 0, to: values.count - 1, by: 2) {
                if let id = values[i].string { found.append((id, values[i + 1].string.flatMap(Double.init) ?? 0)) }
            }
        }
        return found.sorted { $0.at < $1.at }.prefix(limit).map(\.id)
    }

    /// Orders per state (the gauge), summed over the partitions.
    public func counts() async throws -> [OrderState: Int] {
        var counts: [OrderState: Int] = [:]
        for part in keys.partitions {
            var pipeline = RESPPipeline()
            for entry in machine.entries { pipeline.append(["ZCARD", part.index(entry.state)]) }
            let finalPipeline = pipeline
            let replies = try await retrying { try await client.send(finalPipeline) }
            for (entry, reply) in zip(machine.entries, replies) { counts[entry.state, default: 0] += Int(reply.int ?? 0) }
        }
        return counts
    }

    /// The order a vendor's id or our key at that vendor belongs to.
    public func orderID(vendor: String, vendorOrderID: String?, key: String?) async throws -> String? {
        var fields: [String] = []
        if let vendorOrderID { fields.append(Self.ref(vendor: vendor, vendorOrderID: vendorOrderID)) }
        if let key { fields.append(Self.ref(vendor: vendor, key: key)) }
        guard !fields.isEmpty else { return nil }
        let finalFields = fields
        // A webhook names the vendor's order, not ours: look in every partition.
        for part in keys.partitions {
            let reply = try await retrying { try await client.call(["HMGET", part.refs] + finalFields) }
            if let id = (reply.array ?? []).compactMap(\.string).first { return id }
        }
        return nil
    }

    static func ref(vendor: String, vendorOrderID: String) -> String { "\(vendor)|id|\(vendorOrderID)" }
    static func ref(vendor: String, key: String) -> String { "\(vendor)|key|\(key)" }

    /// A flat string map as JSON with sorted keys, written by hand: every
    /// transition writes one (its timeline entry), and JSONSerialization's
    /// generic writer was a tenth of a fulfil job's CPU.
    static func json(_ object: [String: String]) -> String { JSONText.object(object) }
}
