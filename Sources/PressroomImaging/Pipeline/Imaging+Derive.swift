import CVips
import Foundation
import PressroomColor

extension Imaging {
    /// Long edge of the image the report is measured on; fixed so scores are comparable.
    static let analysisSize = 1024
    /// Long edge of the pixels gamut-checked (about 65k pixels: fast and representative).
    static let gamutSampleSize = 256

    func deriveSync(source: Data, catalog: PolicyCatalog) throws(ImagingError) -> DeriveResult {
        let (probe, base) = try EncodedInput.opening(.bytes(source)) { input throws(ImagingError) in
            (try probeImage(input).probe, try derivativeBase(input, catalog: catalog))
        }
        let sha = Imaging.sha256(source)
        var outputs: [ImageOutput] = []
        for policy in catalog.derivatives {
            outputs.append(try makeDerivative(of: base, policy: policy, sourceSHA256: sha).output)
        }
        let report = try assess(base: base, probe: probe, sha: sha, catalog: catalog)
        let reportData: Data
        do {
            reportData = try report.jsonData()
        } catch {
            throw ImagingError(.internal, "cannot encode the quality report: \(error)")
        }
        let catalogShort = catalog.digest.prefix(12)
        outputs.append(ImageOutput(
            key: "derived/\(sha)/report-\(catalogShort)-v\(Imaging.pipelineVersion).json",
            data: reportData, contentType: "application/json", policy: nil))
        logger.debug("derived", metadata: ["sha256": "\(sha)", "outputs": "\(outputs.count)"])
        return DeriveResult(sourceSHA256: sha, probe: probe, outputs: outputs, report: report)
    }

    /// The one decode every derivative is made from: shrink-on-load to the catalog's largest
    /// derivative (or the analysis size). Derive and `policyOutput` both start here, so a
    /// preview is the same pixels whoever asks for it.
    func derivativeBase(_ source: EncodedInput, catalog: PolicyCatalog) throws(ImagingError) -> DerivativeBase {
        var boxWidth = Imaging.analysisSize
        var boxHeight = Imaging.analysisSize
        for derivative in catalog.derivatives {
            let size = derivative.policy.pixelSize
            boxWidth = max(boxWidth, size.width)
            boxHeight = max(boxHeight, size.height)
        }
        return DerivativeBase(try decodeRGB(source, width: boxWidth, height: boxHeight).materialized())
    }

    /// A thumbnail or preview from the base decode: fitted into the policy's box, watermarked,
    /// colour-finished and encoded. The only code that makes a derivative.
    func makeDerivative(of base: DerivativeBase, policy derivative: ResolvedPolicy, sourceSHA256 sha: String) throws(ImagingError) -> (output: ImageOutput, width: Int, height: Int) {
        let policy = derivative.policy
        let (width, height) = policy.pixelSize
        var image = try base.fitted(width: width, height: height)
        if let watermark = policy.watermark {
            if let text = watermark.text {
                image = try image.watermarked(
                    text: text, font: watermark.font, widthFraction: watermark.width,
                    opacity: watermark.opacity, placement: watermark.placement.vipsDirection)
            } else if let bytes = derivative.watermarkImage {
                image = try image.watermarked(
                    image: bytes, widthFraction: watermark.width,
                    opacity: watermark.opacity, placement: watermark.placement.vipsDirection)
            } else {
                // The catalog loads the bytes of every image watermark; a hand-built policy may not.
                throw ImagingError(.policyInvalid, "\(derivative.file): field 'watermark.image': image bytes not loaded")
            }
        }
        image = try finish(image, policy: derivative)
        let format = policy.output.encoder
        let data = try image.encoded(format)
        let output = ImageOutput(
            key: Imaging.derivedKey(sourceSHA256: sha, policy: derivative),
            data: data, contentType: format.contentType, policy: policy.name)
        return (output, image.width, image.height)
    }

    func inspectSync(source: Data, catalog: PolicyCatalog) throws(ImagingError) -> QualityReport {
        let (probe, base) = try EncodedInput.opening(.bytes(source)) { input throws(ImagingError) in
            (try probeImage(input).probe,
             DerivativeBase(try decodeRGB(input, width: Imaging.analysisSize, height: Imaging.analysisSize).materialized()))
        }
        return try assess(base: base, probe: probe, sha: Imaging.sha256(source), catalog: catalog)
    }

    func decodeRGB(_ data: Data, width: Int, height: Int) throws(ImagingError) -> VipsImage {
        try decodeRGB(EncodedInput(data), width: width, height: height)
    }

    /// Shrink-on-load decode fitted into the box, auto-rotated, converted to 8-bit sRGB without alpha.
    ///
    /// Two things `vips_thumbnail` alone gets slower or wrong:
    /// - A JPEG is decoded at the smallest libjpeg scale that still covers the box (see
    ///   `jpegShrink`); libvips keeps one scale more, so a 12 MP photo for a 1600 px preview
    ///   would be decoded whole, four times the pixels.
    /// - Untagged RGB or grey is sRGB by convention, so its pixels are kept and tagged with the
    ///   sRGB profile. Exporting it to "srgb" without an input profile goes through libvips' XYZ
    ///   (D65) into lcms2's PCS (D50) and tints it: white comes out 250, 253, 253 in 8.14.
    func decodeRGB(_ source: EncodedInput, width: Int, height: Int) throws(ImagingError) -> VipsImage {
        let header = try VipsImage.open(source, sequential: true)
        let untagged = !header.hasICCProfile && [
            VIPS_INTERPRETATION_sRGB, VIPS_INTERPRETATION_RGB16, VIPS_INTERPRETATION_B_W, VIPS_INTERPRETATION_GREY16,
        ].contains(header.interpretation)
        let exportProfile: String? = untagged ? nil : "srgb"
        var image: VipsImage
        let shrink = header.loader?.hasPrefix("jpegload") == true
            ? Imaging.jpegShrink(width: header.width, height: header.height, orientation: header.orientation, boxWidth: width, boxHeight: height)
            : 1
        if shrink > 1 {
            image = try VipsImage.openJPEG(source, shrink: shrink)
                .thumbnail(width: width, height: height, exportProfile: exportProfile, intent: VIPS_INTENT_RELATIVE)
        } else {
            image = try VipsImage.thumbnail(source, width: width, height: height, exportProfile: exportProfile, intent: VIPS_INTENT_RELATIVE)
        }
        image = try image.normalizedRGB(background: [255, 255, 255])
        return untagged ? try image.taggedSRGB() : image
    }

    /// The largest JPEG shrink-on-load factor (8, 4 or 2) whose decode still covers the box the
    /// image is fitted into (libjpeg's scaled IDCT rounds sizes up), or 1. `vips_thumbnail` stops
    /// one factor short, leaving its resize at least 2×; here the final resize (lanczos3) makes
    /// up the rest from at least the fitted size, so nothing is upsampled.
    static func jpegShrink(width: Int, height: Int, orientation: Int, boxWidth: Int, boxHeight: Int) -> Int {
        let turned = orientation >= 5 && orientation <= 8
        let (uprightWidth, uprightHeight) = turned ? (height, width) : (width, height)
        let factor = max(Double(uprightWidth) / Double(boxWidth), Double(uprightHeight) / Double(boxHeight))
        return [8, 4, 2].first { Double($0) <= factor } ?? 1
    }

    /// Colour-converts to the policy's profile when it is not sRGB, sets DPI, strips metadata.
    func finish(_ image: VipsImage, policy: ResolvedPolicy) throws(ImagingError) -> VipsImage {
        var image = image
        if policy.profile.vipsName != "srgb" {
            image = try image.iccTransform(
                to: policy.profile.vipsName, fallback: "srgb", intent: policy.policy.output.intent.vipsIntent,
                blackPointCompensation: policy.policy.output.blackPointCompensation)
        }
        image = try image.settingResolution(dotsPerInch: policy.policy.size.dpi)
        if policy.policy.output.stripMetadata {
            image = try image.strippingMetadata()
        }
        return image
    }
}

extension VipsImage {
    /// Scales down (never up) to fit a box.
    func fitting(width: Int, height: Int) throws(ImagingError) -> VipsImage {
        let size = fittedSize(width: width, height: height)
        return try resized(width: size.width, height: size.height)
    }

    /// This image's size scaled down (never up) to fit a box.
    func fittedSize(width: Int, height: Int) -> (width: Int, height: Int) {
        let scale = min(Double(width) / Double(self.width), Double(height) / Double(self.height), 1)
        guard scale < 1 else { return (self.width, self.height) }
        return (max(1, Int((Double(self.width) * scale).rounded())), max(1, Int((Double(self.height) * scale).rounded())))
    }

    /// 8-bit, 3-band sRGB-ready pixels: alpha flattened, grey expanded, 16-bit reduced.
    func normalizedRGB(background: [Double]) throws(ImagingError) -> VipsImage {
        var image = self
        if image.hasAlpha {
            let flattenBackground = image.bandFormat == VIPS_FORMAT_USHORT ? background.map { $0 * 257 } : background
            image = try image.flattened(background: image.bands <= 2 ? [flattenBackground[0]] : flattenBackground)
        }
        if image.bands < 3 {
            image = try image.colourspace(image.bandFormat == VIPS_FORMAT_USHORT ? VIPS_INTERPRETATION_RGB16 : VIPS_INTERPRETATION_sRGB)
            if image.iccColorSpaceSignature == "GRAY" { image = try image.removingProfile() }
        }
        if image.bandFormat == VIPS_FORMAT_USHORT {
            image = try image.colourspace(VIPS_INTERPRETATION_sRGB)
        }
        if image.bandFormat != VIPS_FORMAT_UCHAR {
            image = try image.cast(VIPS_FORMAT_UCHAR)
        }
        return image
    }
}

extension RenderingIntent {
    var vipsIntent: VipsIntent {
        switch self {
        case .perceptual: VIPS_INTENT_PERCEPTUAL
        case .relative: VIPS_INTENT_RELATIVE
        case .saturation: VIPS_INTENT_SATURATION
        case .absolute: VIPS_INTENT_ABSOLUTE
        }
    }
}

extension ProductPolicy.Watermark.Placement {
    var vipsDirection: VipsCompassDirection {
        switch self {
        case .centre: VIPS_COMPASS_DIRECTION_CENTRE
        case .north: VIPS_COMPASS_DIRECTION_NORTH
        case .south: VIPS_COMPASS_DIRECTION_SOUTH
        case .east: VIPS_COMPASS_DIRECTION_EAST
        case .west: VIPS_COMPASS_DIRECTION_WEST
        case .northeast: VIPS_COMPASS_DIRECTION_NORTH_EAST
        case .northwest: VIPS_COMPASS_DIRECTION_NORTH_WEST
        case .southeast: VIPS_COMPASS_DIRECTION_SOUTH_EAST
        case .southwest: VIPS_COMPASS_DIRECTION_SOUTH_WEST
        }
    }
}
