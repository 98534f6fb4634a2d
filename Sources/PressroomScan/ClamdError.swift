/// A failure talking to clamd. Only ``Code/tooLarge`` and
/// ``Code/invalidAddress`` are the caller's fault; everything else means
/// the file was not scanned, which is never the same as clean.
public struct ClamdError: Error, Sendable, Equatable, CustomStringConvertible {
    fileprivate enum Base: String, Sendable {
        case unreachable, timeout, protocolError, scanError, tooLarge, invalidAddress, io
    }

    public struct Code: Sendable, Equatable, CustomStringConvertible {
        fileprivate let base: Base
        /// Connection refused, reset, or the socket is missing.
        public static let unreachable = Code(base: .unreachable)
        public static let timeout = Code(base: .timeout)
        /// A reply clamd's protocol does not allow.
        public static let protocolError = Code(base: .protocolError)
        /// clamd answered `... ERROR` (out of memory, a scan limit, a broken database).
        public static let scanError = Code(base: .scanError)
        /// The stream is longer than the configured limit, or than clamd's
        /// `StreamMaxLength` (`INSTREAM size limit exceeded`).
        public static let tooLarge = Code(base: .tooLarge)
        public static let invalidAddress = Code(base: .invalidAddress)
        /// Reading the local file being scanned failed.
        public static let io = Code(base: .io)
        public var description: String { base.rawValue }
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// Whether trying again later may succeed (clamd restarting, overloaded).
    public var isTransient: Bool {
        code != .tooLarge && code != .invalidAddress
    }

    public var description: String { "ClamdError(\(code)): \(message)" }
}
