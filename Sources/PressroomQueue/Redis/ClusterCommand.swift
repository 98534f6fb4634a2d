/// One command of an encoded request (``RESPCommand``, ``RESPPipeline``) as
/// cluster routing sees it: where its bytes are, and the hash slot of its
/// first key (nil for keyless commands, which any node answers).
struct ClusterCommand: Equatable {
    enum Kind: Equatable {
        case keyed(slot: Int)
        case keyless
        /// `MULTI`: the request is a transaction, routed by its first keyed command.
        case multi
        /// `SCRIPT LOAD` / `SCRIPT FLUSH`: every master must see it.
        case everyMaster
    }

    var range: Range<Int>
    var kind: Kind

    var slot: Int? {
        if case .keyed(let slot) = kind { return slot }
        return nil
    }

    /// The commands in `bytes`, which hold whole RESP arrays of bulk strings
    /// as this package encodes them; nil when they do not parse.
    static func scan(_ bytes: [UInt8]) -> [ClusterCommand]? {
        bytes.withUnsafeBufferPointer { buffer -> [ClusterCommand]? in
            var commands: [ClusterCommand] = []
            var index = 0
            while index < buffer.count {
                let start = index
                guard buffer[index] == UInt8(ascii: "*"), let count = number(buffer, &index) else { return nil }
                var arguments: [UnsafeBufferPointer<UInt8>] = []
                arguments.reserveCapacity(min(count, 8))
                for _ in 0..<count {
                    guard index < buffer.count, buffer[index] == UInt8(ascii: "$"), let length = number(buffer, &index),
                          index + length + 2 <= buffer.count else { return nil }
                    // Only the first arguments can name the routing key, except XREADGROUP's STREAMS.
                    arguments.append(UnsafeBufferPointer(rebasing: buffer[index..<(index + length)]))
                    index += length + 2
                }
                commands.append(ClusterCommand(range: start..<index, kind: kind(of: arguments)))
            }
            return commands
        }
    }

    /// Reads `<marker><digits>\r\n` at `index`, leaving `index` past it.
    private static func number(_ buffer: UnsafeBufferPointer<UInt8>, _ index: inout Int) -> Int? {
        var value = 0
        var position = index + 1
        var digits = 0
        while position < buffer.count, buffer[position] != 13 {
            let digit = Int(buffer[position]) - 48
            guard (0...9).contains(digit) else { return nil }
            value = value * 10 + digit
            position += 1
            digits += 1
        }
        guard digits > 0, position + 1 < buffer.count, buffer[position + 1] == 10 else { return nil }
        index = position + 2
        return value
    }

    /// Commands without keys: any node answers them.
    private static let keyless: Set<String> = [
        "PING", "INFO", "ECHO", "CLUSTER", "CONFIG", "COMMAND", "CLIENT", "TIME", "DBSIZE", "FLUSHALL", "FLUSHDB",
        "EXEC", "DISCARD", "ASKING", "READONLY", "READWRITE", "ROLE", "AUTH", "SELECT", "HELLO", "MONITOR", "WAIT",
        "SCAN", "RANDOMKEY", "LASTSAVE", "SAVE", "BGSAVE", "BGREWRITEAOF", "DEBUG", "SLOWLOG", "LATENCY", "FUNCTION",
        "PUBLISH", "SUBSCRIBE", "PSUBSCRIBE", "QUIT", "RESET", "MEMORY", "ACL", "LOLWUT", "SWAPDB", "SHUTDOWN",
    ]

    /// Where the first key is, for the commands this code base sends: the
    /// first argument; a script's first declared key; the stream after
    /// `STREAMS`; the argument after a subcommand (XINFO, XGROUP, OBJECT).
    static func kind(of arguments: [UnsafeBufferPointer<UInt8>]) -> Kind {
        guard let first = arguments.first else { return .keyless }
        let name = String(decoding: first, as: UTF8.self).uppercased()
        func keyed(_ position: Int) -> Kind {
            position < arguments.count ? .keyed(slot: HashSlot.of(arguments[position])) : .keyless
        }
        switch name {
        case "MULTI":
            return .multi
        case "SCRIPT":
            let sub = arguments.count > 1 ? String(decoding: arguments[1], as: UTF8.self).uppercased() : ""
            return sub == "LOAD" || sub == "FLUSH" ? .everyMaster : .keyless
        case "EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO":
            guard arguments.count > 2, let count = Int(String(decoding: arguments[2], as: UTF8.self)), count > 0 else { return .keyless }
            return keyed(3)
        case "XREAD", "XREADGROUP":
            guard let streams = arguments.firstIndex(where: { String(decoding: $0, as: UTF8.self).uppercased() == "STREAMS" }) else { return .keyless }
            return keyed(streams + 1)
        case "XINFO", "XGROUP", "OBJECT":
            return keyed(2)
        default:
            return keyless.contains(name) ? .keyless : keyed(1)
        }
    }
}
