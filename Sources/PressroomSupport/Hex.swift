extension Sequence where Element == UInt8 {
    /// Lower-case hex, two digits a byte (digests, signatures). Written out
    /// because `String(format: "%02x")` per byte goes through CoreFoundation's
    /// formatter and showed up in the fulfil path's profile.
    public var hexString: String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(underestimatedCount * 2)
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
