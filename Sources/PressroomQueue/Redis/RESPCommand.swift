/// One command already encoded in RESP, the way hiredis would write it.
///
/// Encoding on the caller's thread straight from the arguments' UTF-8 saves an
/// array per argument and hiredis' own formatting pass on the connection
/// thread, which at tens of thousands of jobs a second is most of its work.
public struct RESPCommand: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init<C: Collection>(_ args: C) where C.Element == String {
        RESP.encode(args, into: &bytes)
    }

    public init(bytes args: [[UInt8]]) {
        bytes.reserveCapacity(args.reduce(16) { $0 + $1.count + 16 })
        RESP.appendHeader(UInt8(ascii: "*"), args.count, to: &bytes)
        for arg in args {
            arg.withUnsafeBufferPointer { RESP.appendBulk($0, to: &bytes) }
        }
    }
}

/// Commands written back to back on one connection, with nothing of other
/// callers in between: what `MULTI … EXEC` needs.
public struct RESPPipeline: Sendable {
    public private(set) var bytes: [UInt8] = []
    /// Number of commands, so of replies to read.
    public private(set) var count = 0

    /// - Parameter capacity: expected size in bytes, to spare regrowing.
    public init(capacity: Int = 0) {
        bytes.reserveCapacity(capacity)
    }

    public mutating func append<C: Collection>(_ args: C) where C.Element == String {
        RESP.encode(args, into: &bytes)
        count += 1
    }

    /// Appends one command of `argumentCount` arguments written by `body`,
    /// straight into the pipeline: no array of argument strings, no strings
    /// for numbers.
    public mutating func append(argumentCount: Int, _ body: (inout RESPArguments) -> Void) {
        RESP.appendHeader(UInt8(ascii: "*"), argumentCount, to: &bytes)
        var arguments = RESPArguments()
        swap(&arguments.bytes, &bytes)
        body(&arguments)
        swap(&arguments.bytes, &bytes)
        precondition(arguments.written == argumentCount, "RESP command declared \(argumentCount) arguments, wrote \(arguments.written)")
        count += 1
    }

    public mutating func append(_ command: RESPCommand) {
        bytes.append(contentsOf: command.bytes)
        count += 1
    }
}

/// The arguments of one command being written into a ``RESPPipeline``.
public struct RESPArguments {
    fileprivate var bytes: [UInt8] = []
    fileprivate var written = 0

    public mutating func add(_ text: String) {
        RESP.appendBulk(text, to: &bytes)
        written += 1
    }

    public mutating func add(_ number: Int64) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes on the stack: room for any Int64
        withUnsafeMutableBytes(of: &digits) { buffer in
            var index = buffer.count
            var rest = number.magnitude
            repeat {
                index -= 1
                buffer[index] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
            } while rest > 0
            if number < 0 {
                index -= 1
                buffer[index] = UInt8(ascii: "-")
            }
            RESP.appendHeader(UInt8(ascii: "$"), buffer.count - index, to: &bytes)
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[index...]))
        }
        bytes.append(13)
        bytes.append(10)
        written += 1
    }

    public mutating func add(_ number: Int) {
        add(Int64(number))
    }
}

enum RESP {
    static func encode<C: Collection>(_ args: C, into bytes: inout [UInt8]) where C.Element == String {
        if bytes.isEmpty {
            var size = 16
            for arg in args { size += arg.utf8.count + 16 }
            bytes.reserveCapacity(size)
        }
        // Appending to a pipeline: the array grows geometrically by itself;
        // reserving exactly here would reallocate it on every command.
        appendHeader(UInt8(ascii: "*"), args.count, to: &bytes)
        for arg in args {
            appendBulk(arg, to: &bytes)
        }
    }

    static func appendBulk(_ text: String, to bytes: inout [UInt8]) {
        appendHeader(UInt8(ascii: "$"), text.utf8.count, to: &bytes)
        // Native strings hand out their UTF-8 buffer: one copy, no per-byte loop.
        if text.utf8.withContiguousStorageIfAvailable({ bytes.append(contentsOf: $0) }) == nil {
            bytes.append(contentsOf: text.utf8)
        }
        bytes.append(13)
        bytes.append(10)
    }

    static func appendBulk(_ arg: UnsafeBufferPointer<UInt8>, to bytes: inout [UInt8]) {
        appendHeader(UInt8(ascii: "$"), arg.count, to: &bytes)
        bytes.append(contentsOf: arg)
        bytes.append(13)
        bytes.append(10)
    }

    static func appendHeader(_ marker: UInt8, _ value: Int, to bytes: inout [UInt8]) {
        bytes.append(marker)
        if value < 10 {
            bytes.append(UInt8(ascii: "0") + UInt8(value))
        } else {
            var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                         UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
                (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
            var count = 0
            var rest = value
            withUnsafeMutableBytes(of: &digits) { buffer in
                while rest > 0 {
                    buffer[19 - count] = UInt8(ascii: "0") + UInt8(rest % 10)
                    rest /= 10
                    count += 1
                }
                bytes.append(contentsOf: buffer[(20 - count)...])
            }
        }
        bytes.append(13)
        bytes.append(10)
    }
}
