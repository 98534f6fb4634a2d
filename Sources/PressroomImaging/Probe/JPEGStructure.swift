import CVipsShims
import Foundation

/// Structural checks on JPEG bytes that libvips 8.14 does not make itself:
/// its thumbnail ignores `fail_on`, and libjpeg pads a truncated scan with
/// grey and reports only a warning — so a half-uploaded photo would print.
enum JPEGStructure {
    /// Bytes read at a time, from the end back: a file is never read whole into memory.
    static let blockSize = 1 << 20

    /// True when an end-of-image marker (FF D9) follows the last start-of-scan (FF DA).
    /// Inside entropy-coded data every FF is stuffed (FF 00) or a restart marker, so
    /// neither pair can appear by accident; an EXIF thumbnail's markers come earlier.
    /// Bytes in memory or a file alike, one block at a time from the end.
    static func isComplete(_ input: EncodedInput) throws(ImagingError) -> Bool {
        guard input.byteCount >= 4 else { return false }
        var sawEnd = false
        // Each block runs through `upper` inclusive: an FF at its last searched index has its
        // marker byte in the block. Walk backwards from one FF to the one before (memrchr: a
        // baseline photo's only SOS is megabytes before its end): the EOI is near the end, the
        // last SOS before it.
        var upper = input.byteCount - 1
        while upper > 0 {
            let lower = max(0, upper - blockSize)
            let verdict: Bool? = try input.withBytes(in: lower..<(upper + 1)) { raw in
                guard let start = raw.baseAddress else { return nil }
                var end = raw.count - 1
                while end > 0, let found = pressroom_memrchr(start, 0xFF, end) {
                    let index = start.distance(to: found)
                    let marker = raw[index + 1]
                    if marker == 0xD9 { sawEnd = true }
                    if marker == 0xDA { return sawEnd }
                    end = index
                }
                return nil
            }
            if let verdict { return verdict }
            upper = lower
        }
        return false
    }
}
