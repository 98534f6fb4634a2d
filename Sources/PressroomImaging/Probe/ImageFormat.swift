import Foundation

/// The allowed input formats, recognised by their leading bytes (never by file name).
public enum ImageFormat: String, Sendable, Codable, CaseIterable {
    case jpeg, png, webp, tiff, gif, heif, avif

    /// Sniffs the magic bytes; nil for anything not on the allowlist (SVG, PDF, text...).
    public static func sniff(_ data: Data) -> ImageFormat? {
        let bytes = [UInt8](data.prefix(32))
        func starts(_ prefix: [UInt8], at offset: Int = 0) -> Bool {
            bytes.count >= offset + prefix.count && Array(bytes[offset..<offset + prefix.count]) == prefix
        }
        if starts([0xFF, 0xD8, 0xFF]) { return .jpeg }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if starts(Array("RIFF".utf8)) && starts(Array("WEBP".utf8), at: 8) { return .webp }
        if starts([0x49, 0x49, 0x2A, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2A]) { return .tiff }
        if starts(Array("GIF87a".utf8)) || starts(Array("GIF89a".utf8)) { return .gif }
        if starts(Array("ftyp".utf8), at: 4), bytes.count >= 12 {
            // Major brand, then compatible brands up to the end of the ftyp box (within what we read).
            let boxSize = Int(bytes[0]) << 24 | Int(bytes[1]) << 16 | Int(bytes[2]) << 8 | Int(bytes[3])
            let end = min(bytes.count, max(12, boxSize))
            var brands: [String] = [String(decoding: bytes[8..<12], as: UTF8.self)]
            var offset = 16
            while offset + 4 <= end {
                brands.append(String(decoding: bytes[offset..<offset + 4], as: UTF8.self))
                offset += 4
            }
            if brands.contains(where: { $0 == "avif" || $0 == "avis" }) { return .avif }
            if brands.contains(where: { ["heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1"].contains($0) }) { return .heif }
        }
        return nil
    }

    /// The libvips loader family expected for this format (checked against libvips' own sniffing).
    var loaderKeyword: String {
        switch self {
        case .jpeg: "jpeg"
        case .png: "png"
        case .webp: "webp"
        case .tiff: "tiff"
        case .gif: "gif"
        case .heif, .avif: "heif"
        }
    }
}
