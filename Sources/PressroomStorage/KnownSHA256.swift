import Foundation

/// A SHA-256 the caller already has for the bytes it asks a store to write
/// (the imaging pipeline hashes a master while encoding it), so the store
/// can skip its own pass over the file. Hex, as job results and masters
/// carry it; checked for form before anything is written, and against the
/// bytes as they are stored.
enum KnownSHA256 {
    /// The digest's 32 bytes; anything but 64 hex digits is the caller's bug.
    static func digest(hex: String) throws -> Data {
        let utf8 = Array(hex.utf8)
        guard utf8.count == 64 else { throw malformed(hex) }
        var bytes = Data(capacity: 32)
        for index in stride(from: 0, to: 64, by: 2) {
            guard let high = nibble(utf8[index]), let low = nibble(utf8[index + 1]) else { throw malformed(hex) }
            bytes.append(high << 4 | low)
        }
        return bytes
    }

    /// The bytes the store read are not the ones the caller hashed (the file
    /// changed, or the digest belongs to another file): nothing was stored.
    static func mismatch(_ key: String, actual: String, given: String) -> ObjectStoreError {
        ObjectStoreError(.checksumMismatch, "PUT \(key): the file has sha256 \(actual) but the caller gave \(given); nothing stored")
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private static func malformed(_ hex: String) -> ObjectStoreError {
        ObjectStoreError(.badRequest, "sha256 must be 64 hex digits, not \(hex.utf8.count) characters")
    }
}
