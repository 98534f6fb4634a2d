import CVipsShims
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
            guard raw.count >= 4, let start = raw.baseAddress else { return false }
            // Walk backwards from one FF to the one before (memrchr: a baseline photo's only SOS
            // is megabytes before its end): the EOI is near the end, the last SOS before it.
            var sawEnd = false
            var end = raw.count - 1
            while end > 0, let found = pressroom_memrchr(start, 0xFF, end) {
                let index = start.distance(to: found)
                let marker = raw[index + 1]
                if marker == 0xD9 { sawEnd = true }
                if marker == 0xDA { return sawEnd }
                end = index
            }
            return false
        }
    }
}
