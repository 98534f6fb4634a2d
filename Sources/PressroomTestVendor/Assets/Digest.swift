import Foundation
import PressroomSupport

/// The checksums a create may carry for an asset. The contract does not fix
/// their encoding, so both lower/upper-case hex and base64 are accepted;
/// the decoded length must match the algorithm, so nothing else passes.
enum Digest: String, Sendable {
    case sha256, md5

    var byteCount: Int { self == .sha256 ? 32 : 16 }

    /// Lower-case hex of a given checksum, or `nil` when it is not one.
    func normalize(_ text: String) -> String? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.count == byteCount * 2, trimmed.allSatisfy(\.isHexDigit) {
            return trimmed.lowercased()
        }
        if let data = Data(base64Encoded: trimmed), data.count == byteCount {
            return data.hex
        }
        return nil
    }
}

extension Data {
    var hex: String { hexString }
}
