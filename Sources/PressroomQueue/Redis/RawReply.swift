import CHiredis

/// Reads of hiredis' reply tree for decoders that run on the connection
/// thread (``RedisClient/send(_:decode:)``) and skip ``RedisValue``.
enum RawReply {
    /// The reply's bytes (bulk, status, error), valid until the tree is freed.
    static func withBytes<R>(_ reply: redisReply, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        guard let pointer = reply.str, reply.len > 0 else { return body(UnsafeBufferPointer(start: nil, count: 0)) }
        return pointer.withMemoryRebound(to: UInt8.self, capacity: reply.len) {
            body(UnsafeBufferPointer(start: $0, count: reply.len))
        }
    }

    static func text(_ reply: redisReply) -> String {
        withBytes(reply) { String(decoding: $0, as: UTF8.self) }
    }

    /// The first error in a reply or among its direct elements (an `EXEC`
    /// reply carries each queued command's error as an element).
    static func firstError(_ pointer: UnsafeMutablePointer<redisReply>) -> String? {
        let reply = pointer.pointee
        if reply.type == REDIS_REPLY_ERROR { return text(reply) }
        if reply.type == REDIS_REPLY_ARRAY {
            for index in 0..<reply.elements {
                if let element = reply.element[index]?.pointee, element.type == REDIS_REPLY_ERROR { return text(element) }
            }
        }
        return nil
    }
}
