import Foundation

/// Structural checks on JPEG bytes that libvips 8.14 does not make itself:
/// `thumbnail_buffer` ignores `fail_on`, and libjpeg pads a truncated scan with
/// grey and reports only a warning — so a half-uploaded photo would print.
enum JPEGStructure {
    /// True when an end-of-image marker (FF D9) follows the last start-of-scan (FF DA).
    /// Inside entropy-coded data every FF is stuffed (FF 00) or a restart marker, so
    /// neither pair can appear by accident; an EXIF thumbnail's markers come earlier.
    static func isComplete(_ data: Data) -> Bool {
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> Bool in
            let bytes = raw.bindMemory(to: UInt8.self)
            guard bytes.count >= 4 else { return false }
            var lastScan = -1
            var index = bytes.count - 2
            // Walk backwards: the EOI is near the end, the last SOS before it.
            var sawEnd = false
            while index >= 0 {
                if bytes[index] == 0xFF {
                    let marker = bytes[index + 1]
                    if marker == 0xD9 { sawEnd = true }
                    if marker == 0xDA {
                        lastScan = index
                        break
                    }
                }
                index -= 1
            }
            return lastScan >= 0 && sawEnd
        }
    }
}
