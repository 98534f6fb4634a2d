import Crypto
import Foundation
import PressroomSupport

/// A Lua script run with EVALSHA, loaded on demand: after a Redis restart or
/// `SCRIPT FLUSH` the first NOSCRIPT reply triggers one EVAL that reloads it.
public struct RedisScript: Sendable {
    public let name: String
    public let source: String
    public let sha1: String

    public init(name: String, source: String) {
        self.name = name
        self.source = source
        self.sha1 = Insecure.SHA1.hash(data: Data(source.utf8)).hexString
    }

    /// Runs the script; error replies are thrown as ``RedisError``.
    @discardableResult
    public func run(on client: RedisClient, keys: [String], args: [String]) async throws -> RedisValue {
        func command(_ head: String) -> RESPCommand {
            var all: [String] = []
            all.reserveCapacity(3 + keys.count + args.count)
            all.append(head)
            all.append(head == "EVALSHA" ? sha1 : source)
            all.append(String(keys.count))
            all.append(contentsOf: keys)
            all.append(contentsOf: args)
            return RESPCommand(all)
        }
        let reply = try await client.send(command("EVALSHA"))
        if case .error(let message) = reply, message.hasPrefix("NOSCRIPT") {
            return try await client.send(command("EVAL")).throwingServerError()
        }
        return try reply.throwingServerError()
    }
}
