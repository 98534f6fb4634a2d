import CHiredis

/// One stream entry as Redis returned it. `fields` is `nil` when the entry was
/// deleted (trimmed) while still pending: XREADGROUP then returns only its id.
public struct StreamEntry: Sendable {
    public let id: String
    public let fields: [(String, String)]?

    public init(id: String, fields: [(String, String)]?) {
        self.id = id
        self.fields = fields
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

    /// Decodes an `XREADGROUP` reply straight from hiredis' reply tree: one
    /// String per field, no intermediate ``RedisValue``. Error replies throw.
    static func decodeReadReply(_ reply: UnsafeMutablePointer<redisReply>) throws -> [StreamEntry] {
        let top = reply.pointee
        if top.type == REDIS_REPLY_ERROR {
            throw RedisError.server(text(top))
        }
        guard top.type == REDIS_REPLY_ARRAY else { return [] }
        var entries: [StreamEntry] = []
        for s in 0..<top.elements {
            guard let stream = top.element[s]?.pointee, stream.type == REDIS_REPLY_ARRAY, stream.elements == 2,
                  let list = stream.element[1]?.pointee, list.type == REDIS_REPLY_ARRAY else { continue }
            entries.reserveCapacity(entries.count + list.elements)
            for e in 0..<list.elements {
                guard let item = list.element[e]?.pointee, item.type == REDIS_REPLY_ARRAY, item.elements >= 1,
                      let idReply = item.element[0]?.pointee else { continue }
                let id = text(idReply)
                guard item.elements > 1, let values = item.element[1]?.pointee, values.type == REDIS_REPLY_ARRAY else {
                    entries.append(StreamEntry(id: id, fields: nil))  // deleted while pending
                    continue
                }
                var fields: [(String, String)] = []
                fields.reserveCapacity(values.elements / 2)
                var index = 0
                while index + 1 < values.elements {
                    let key = values.element[index].map { text($0.pointee) } ?? ""
                    let value = values.element[index + 1].map { text($0.pointee) } ?? ""
                    fields.append((key, value))
                    index += 2
                }
                entries.append(StreamEntry(id: id, fields: fields))
            }
        }
        return entries
    }

    private static func text(_ reply: redisReply) -> String {
        RawReply.text(reply)
    }
}
