import Crypto
import Foundation

/// A Lua script run with EVALSHA, loaded on demand: after a Redis restart or
/// `SCRIPT FLUSH` the first NOSCRIPT reply triggers one EVAL that reloads it.
public struct RedisScript: Sendable {
    public let name: String
    public let source: String
    public let sha1: String

    public init(name: String, source: String) {
        self.name = name
        self.source = source
        self.sha1 = Insecure.SHA1.hash(data: Data(source.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Runs the script; error replies are thrown as ``RedisError``.
    @discardableResult
    public func run(on client: RedisClient, keys: [String], args: [String]) async throws -> RedisValue {
        let tail = [String(keys.count)] + keys + args
        let reply = try await client.send(["EVALSHA", sha1] + tail)
        if case .error(let message) = reply, message.hasPrefix("NOSCRIPT") {
            return try await client.send(["EVAL", source] + tail).throwingServerError()
        }
        return try reply.throwingServerError()
    }
}
