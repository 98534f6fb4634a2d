/// The Redis Cluster hash slot of a key: CRC16 (XMODEM) of the key, or of its
/// hash tag (what lies between the first `{` and the next `}`, when not
/// empty), mod 16384, as the cluster specification defines it. Every key of
/// one queue shares the tag `{ns:queue}`, so a queue's scripts and
/// transactions stay on one slot, hence one node.
public enum HashSlot {
    public static let count = 16384

    public static func of(_ key: String) -> Int {
        var key = key
        return key.withUTF8 { of($0) }
    }

    public static func of(_ key: UnsafeBufferPointer<UInt8>) -> Int {
        Int(crc16(tagged(key)) & 0x3FFF)
    }

    /// The part of the key that is hashed.
    static func tagged(_ key: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        guard let open = key.firstIndex(of: UInt8(ascii: "{")),
              let close = key[(open + 1)...].firstIndex(of: UInt8(ascii: "}")),
              close > open + 1 else { return key }
        return UnsafeBufferPointer(rebasing: key[(open + 1)..<close])
    }

    static func crc16(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt16 {
        var crc: UInt16 = 0
        for byte in bytes {
            crc = (crc << 8) ^ table[Int(UInt8(truncatingIfNeeded: crc >> 8) ^ byte)]
        }
        return crc
    }

    /// CRC16-CCITT (XMODEM), polynomial 0x1021.
    private static let table: [UInt16] = (0..<256).map { index in
        var crc = UInt16(index) << 8
        for _ in 0..<8 {
            crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1
        }
        return crc
    }
}
