import Crypto
import Foundation

/// Hex SHA-256, the content address used in keys.
enum SHA256Hex {
    static func digest(_ data: Data) -> String {
        hex(SHA256.hash(data: data))
    }

    static func hex(_ digest: SHA256.Digest) -> String {
        digest.map { String(format: "%02x", $0) }.joined()
    }
}
