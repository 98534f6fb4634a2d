import Crypto
import Foundation

/// Hex SHA-256, the content address used in keys.
enum SHA256Hex {
    static func digest(_ data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }
}
