import CVips
import CVipsShims
import Foundation
import PressroomColor

extension Imaging {
    func probeSync(_ source: EncodedSource) throws(ImagingError) -> ImageProbe {
        try EncodedInput.opening(source) { input throws(ImagingError) in try probeImage(input).probe }
    }

    /// Probes `input` and returns the lazily opened header image too. Everything before that
    /// open reads the bytes or the file directly, not through a decoder: the byte cap, the
    /// format by content, the JPEG's end, libvips' own sniffing. Later decodes of the same
    /// input (see `EncodedInput.opening`) read the same bytes or file.
    func probeImage(_ input: EncodedInput) throws(ImagingError) -> (probe: ImageProbe, image: VipsImage) {
        guard input.byteCount <= configuration.maxBytes else {
            throw ImagingError(.tooLarge, "\(input.byteCount) bytes exceeds the \(configuration.maxBytes)-byte cap")
        }
        let head = try input.prefix(32)
        guard let format = ImageFormat.sniff(head) else {
            let hex = head.prefix(16).map { String(format: "%02x", $0) }.joined(separator: " ")
            throw ImagingError(.unsupportedFormat, "content is not an allowed image format (jpeg, png, webp, tiff, gif, heif, avif); leading bytes: \(hex)")
        }
        if format == .jpeg, try !JPEGStructure.isComplete(input) {
            throw ImagingError(.corrupt, "JPEG data ends before its end-of-image marker (truncated upload?)")
        }
        // libvips must agree with the sniffing, so a polyglot file cannot reach another loader.
        let source = try input.makeVipsSource()
        let loader = source.loaderName
        guard let loader, loader.lowercased().contains(format.loaderKeyword) else {
            throw ImagingError(.unsupportedFormat, "libvips has no \(format.rawValue) loader for this content (found \(loader ?? "none"))")
        }
        let image: VipsImage
        do {
            image = try VipsImage.open(input, through: source, sequential: true)
        } catch where error.message.contains("Unsupported") {
            // e.g. lossless JPEG (SOF3): a valid file of a variant libjpeg cannot decode.
            throw ImagingError(.unsupportedFormat, error.message)
        }
        let pageHeight = image.pageHeight > 0 ? image.pageHeight : image.height
        let pixels = image.width.multipliedReportingOverflow(by: pageHeight)
        guard !pixels.overflow, pixels.partialValue <= configuration.maxPixels else {
            throw ImagingError(.tooManyPixels, "\(image.width)×\(pageHeight) exceeds the \(configuration.maxPixels)-pixel cap")
        }
        try checkShape(width: image.width, height: pageHeight)
        var embedded: String?
        if let profileData = image.iccProfile {
            let profile: ICCProfile
            do {
                profile = try ICCProfile(data: profileData, context: colorContext)
            } catch {
                throw ImagingError(.badProfile, "embedded ICC profile: \(error.message)")
            }
            let expected: ProfileColorSpace = image.interpretation == VIPS_INTERPRETATION_CMYK ? .cmyk : (image.bands <= 2 ? .gray : .rgb)
            // A grey image with an RGB profile is common and harmless; anything else mismatched is broken.
            guard profile.colorSpace == expected || (expected == .gray && profile.colorSpace == .rgb) else {
                throw ImagingError(.badProfile, "embedded \(profile.colorSpace.rawValue) profile on a \(expected.rawValue) image")
            }
            embedded = profile.colorSpace.rawValue
        }
        let bits: Int
        switch image.bandFormat {
        case VIPS_FORMAT_USHORT, VIPS_FORMAT_SHORT: bits = 16
        case VIPS_FORMAT_FLOAT, VIPS_FORMAT_UINT, VIPS_FORMAT_INT: bits = 32
        case VIPS_FORMAT_DOUBLE: bits = 64
        default: bits = 8
        }
        let interpretationName = vips_enum_nick(vips_interpretation_get_type(), Int32(image.interpretation.rawValue)).map { String(cString: $0) } ?? "unknown"
        let probe = ImageProbe(
            format: format, byteCount: input.byteCount, width: image.width, height: pageHeight,
            orientation: min(8, max(1, image.orientation)), bands: image.bands, bitsPerSample: bits,
            hasAlpha: image.hasAlpha, interpretation: interpretationName,
            pageCount: max(1, image.pageCount), embeddedProfile: embedded)
        return (probe, image)
    }

    /// Refuses strips and slivers from the header alone: no product prints them, and their cost
    /// in libvips grows with the long side (one strip per row or column), not with the pixels.
    func checkShape(width: Int, height: Int) throws(ImagingError) {
        let short = min(width, height)
        let long = max(width, height)
        guard short >= configuration.minShortSide else {
            throw ImagingError(.degenerateShape, "\(width)×\(height): the shorter side (\(short) px) is below the \(configuration.minShortSide)-px minimum (imaging.minShortSide)")
        }
        let ratio = Double(long) / Double(short)
        guard ratio <= configuration.maxAspectRatio else {
            throw ImagingError(.degenerateShape, String(format: "%d×%d: aspect ratio %.1f:1 exceeds the %g:1 maximum (imaging.maxAspectRatio)",
                                                        width, height, ratio, configuration.maxAspectRatio))
        }
    }
}
