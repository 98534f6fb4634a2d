import CHiredis
import Foundation

/// Owns one hiredis `redisContext` and frees it exactly once.
///
/// Blocking and not thread-safe: only ``RedisClient`` uses it, always from the
/// one thread that owns the connection.
final class RedisConnection {
    private let context: UnsafeMutablePointer<redisContext>

    /// Connects and authenticates; throws `.connection` with hiredis' message.
    init(endpoint: RedisEndpoint, connectTimeout: Duration, commandTimeout: Duration) throws {
        let connectTV = timeval(duration: connectTimeout)
        let raw: UnsafeMutablePointer<redisContext>?
        switch endpoint.address {
        case .tcp(let host, let port):
            raw = redisConnectWithTimeout(host, Int32(port), connectTV)
        case .unix(let path):
            raw = redisConnectUnixWithTimeout(path, connectTV)
        }
        guard let raw else { throw RedisError.connection("cannot allocate a redis context") }
        if raw.pointee.err != 0 {
            let message = Self.errorString(raw)
            redisFree(raw)
            throw RedisError.connection("cannot connect to \(endpoint): \(message)")
        }
        self.context = raw
        if redisSetTimeout(raw, timeval(duration: commandTimeout)) != REDIS_OK {
            throw RedisError.connection("cannot set the socket timeout: \(Self.errorString(raw))")
        }
        if let password = endpoint.password {
            var args = ["AUTH"]
            if let user = endpoint.username { args.append(user) }
            args.append(password)
            if case .error(let message) = try command(args.map { Array($0.utf8) }) {
                throw RedisError.connection("authentication failed: \(message)")
            }
        }
        if endpoint.database != 0 {
            try command(["SELECT", String(endpoint.database)].map { Array($0.utf8) }).throwingServerError()
        }
    }

    deinit {
        redisFree(context)
    }

    /// One command, one round trip.
    func command(_ args: [[UInt8]]) throws -> RedisValue {
        try write(RESPCommand(bytes: args).bytes)
        return try readReply()
    }

    /// Queues encoded commands in hiredis' output buffer; nothing is sent
    /// until the first ``readReply()``, so a pipeline costs one round trip.
    func write(_ bytes: [UInt8]) throws {
        let status = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) {
                redisAppendFormattedCommand(context, $0.baseAddress, $0.count)
            }
        }
        if status != REDIS_OK {
            throw RedisError.connection(Self.errorString(context))
        }
    }

    /// Reads the next reply and hands hiredis' reply tree to `decode`, which
    /// must copy out what it keeps: the tree is freed when it returns. For
    /// large replies (a batch of stream entries) this skips building a
    /// ``RedisValue`` tree only to take it apart again.
    func readReply<T>(decode: (UnsafeMutablePointer<redisReply>) throws -> T) throws -> T {
        var reply: UnsafeMutableRawPointer?
        if redisGetReply(context, &reply) != REDIS_OK || reply == nil {
            throw RedisError.connection(Self.errorString(context))
        }
        defer { freeReplyObject(reply) }
        let tree = reply!.assumingMemoryBound(to: redisReply.self)
        try Self.checkNode(tree)
        return try decode(tree)
    }

    /// Flushes what was written and reads the next reply.
    /// A broken connection throws; the caller must drop this connection.
    func readReply() throws -> RedisValue {
        var reply: UnsafeMutableRawPointer?
        if redisGetReply(context, &reply) != REDIS_OK || reply == nil {
            throw RedisError.connection(Self.errorString(context))
        }
        defer { freeReplyObject(reply) }
        let tree = reply!.assumingMemoryBound(to: redisReply.self)
        try Self.checkNode(tree)
        return Self.decode(tree)
    }

    /// Throws a wrong-node error reply (``RedisError/wrongNode(_:)``) as a
    /// connection error, whatever the caller meant to decode.
    private static func checkNode(_ reply: UnsafeMutablePointer<redisReply>) throws {
        guard reply.pointee.type == REDIS_REPLY_ERROR else { return }
        let text = String(decoding: bytes(reply.pointee.str, reply.pointee.len), as: UTF8.self)
        if let error = RedisError.wrongNode(text) { throw error }
    }

    static func decode(_ reply: UnsafeMutablePointer<redisReply>) -> RedisValue {
        let r = reply.pointee
        switch r.type {
        case REDIS_REPLY_STRING:
            return .bulk(bytes(r.str, r.len))
        case REDIS_REPLY_STATUS:
            return .status(String(decoding: bytes(r.str, r.len), as: UTF8.self))
        case REDIS_REPLY_ERROR:
            return .error(String(decoding: bytes(r.str, r.len), as: UTF8.self))
        case REDIS_REPLY_INTEGER:
            return .integer(r.integer)
        case REDIS_REPLY_NIL:
            return .null
        case REDIS_REPLY_ARRAY:
            var values: [RedisValue] = []
            values.reserveCapacity(r.elements)
            for index in 0..<r.elements {
                if let element = r.element[index] {
                    values.append(decode(element))
                } else {
                    values.append(.null)
                }
            }
            return .array(values)
        default:
            return .error("unknown reply type \(r.type)")
        }
    }

    private static func bytes(_ pointer: UnsafeMutablePointer<CChar>?, _ length: Int) -> [UInt8] {
        guard let pointer, length > 0 else { return [] }
        return pointer.withMemoryRebound(to: UInt8.self, capacity: length) {
            Array(UnsafeBufferPointer(start: $0, count: length))
        }
    }

    private static func errorString(_ context: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: context.pointee.errstr) { raw in
            let bytes = raw.prefix { $0 != 0 }
            let text = String(decoding: bytes, as: UTF8.self)
            return text.isEmpty ? "error \(context.pointee.err)" : text
        }
    }
}

extension timeval {
    init(duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self.init(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
    }
}
