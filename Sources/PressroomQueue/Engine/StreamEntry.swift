/// One stream entry as Redis returned it. `fields` is `nil` when the entry was
/// deleted (trimmed) while still pending: XREADGROUP then returns only its id.
public struct StreamEntry: Sendable {
    public let id: String
    public let fields: [(String, String)]?

    public init(id: String, fields: [(String, String)]?) {
        self.id = id
        self.fields = fields
    }

    /// Parses `XREADGROUP`/`XREAD` replies: `[[stream, [[id, [k, v, ...]], ...]], ...]`.
    static func parseReadReply(_ reply: RedisValue) -> [StreamEntry] {
        guard let streams = reply.array else { return [] }
        var entries: [StreamEntry] = []
        for stream in streams {
            guard let parts = stream.array, parts.count == 2 else { continue }
            entries += parseEntries(parts[1])
        }
        return entries
    }

    /// Parses `XRANGE`-shaped replies: `[[id, [k, v, ...]], ...]`.
    public static func parseEntries(_ reply: RedisValue) -> [StreamEntry] {
        guard let items = reply.array else { return [] }
        return items.compactMap { item in
            guard let pair = item.array, let id = pair.first?.string else { return nil }
            let fields = pair.count > 1 && !pair[1].isNull ? pair[1].fieldPairs : nil
            return StreamEntry(id: id, fields: fields)
        }
    }
}
