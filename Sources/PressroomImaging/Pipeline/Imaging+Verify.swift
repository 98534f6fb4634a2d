import CVips
import Foundation

extension Imaging {
    /// Long edge of the images compared with the preview: small enough to ignore
    /// resampling, JPEG noise and the watermark, large enough to see a wrong turn or crop.
    static let comparisonSize = 24
    /// Mean absolute difference (0–255) above which master and preview are different pictures.
    static let maxPreviewDifference = 28.0

    /// The JPEG decoder's shrink (1, 2, 4 or 8) that still leaves the content at least 512 px
    /// on its long edge, twice the size measured.
    static func jpegShrink(longEdge: Int) -> Int {
        var shrink = 8
        while shrink > 1, longEdge / shrink < 512 { shrink /= 2 }
        return shrink
    }

    /// Re-reads a spooled master once, sequentially: the header for size, profile and colour
    /// space, then the pixels shrunk on the way in (JPEG at 1/8 scale in the decoder itself)
    /// for the blank check and the comparison with the preview.
    func verifySync(master file: URL, policy resolved: ResolvedPolicy, plan: RenderPlan, preview: Data?) throws(ImagingError) -> VerificationResult {
        func fail(_ reason: String) -> ImagingError {
            ImagingError(.verificationFailed, "\(resolved.name) master: \(reason)")
        }
        let image: VipsImage
        do {
            image = try VipsImage.open(file: file, sequential: true)
        } catch {
            throw fail("cannot re-open: \(error.message)")
        }
        guard image.width == plan.canvasWidth, image.height == plan.canvasHeight else {
            throw fail("size \(image.width)×\(image.height), expected \(plan.canvasWidth)×\(plan.canvasHeight)")
        }
        guard let profile = image.iccProfile else { throw fail("no embedded ICC profile") }
        if let expected = resolved.profile.data, expected != profile {
            throw fail("embedded profile (\(profile.count) bytes) is not the policy's \(resolved.profile.name)")
        }
        let cmyk = resolved.profile.isCMYK
        let signature = image.iccColorSpaceSignature
        if cmyk {
            guard image.bands == 4, image.interpretation == VIPS_INTERPRETATION_CMYK, signature == "CMYK" else {
                throw fail("expected CMYK, got \(image.bands) bands with a \(signature ?? "missing") profile")
            }
        } else {
            guard image.bands == 3, signature == "RGB " else {
                throw fail("expected RGB, got \(image.bands) bands with a \(signature ?? "missing") profile")
            }
        }
        // Measure on a small sRGB copy of the content area: cheap, and comparable with the preview.
        // Shrink first and convert the few pixels left; the decoder shrinks JPEG for free.
        let shrink = image.loader == "jpegload" ? Self.jpegShrink(longEdge: max(plan.contentWidth, plan.contentHeight)) : 1
        let small: VipsImage
        do {
            let pixels = shrink > 1 ? try VipsImage.open(file: file, sequential: true, shrink: shrink) : image
            let scaleX = Double(pixels.width) / Double(image.width)
            let scaleY = Double(pixels.height) / Double(image.height)
            let left = min(pixels.width - 1, Int((Double(plan.bleed + plan.contentX) * scaleX).rounded()))
            let top = min(pixels.height - 1, Int((Double(plan.bleed + plan.contentY) * scaleY).rounded()))
            let width = max(1, min(pixels.width - left, Int((Double(plan.contentWidth) * scaleX).rounded())))
            let height = max(1, min(pixels.height - top, Int((Double(plan.contentHeight) * scaleY).rounded())))
            let content = try pixels.extractArea(left: left, top: top, width: width, height: height)
            // A box shrink first, to twice the measured size at most: a lanczos resize straight
            // from a 9070 px TIFF kept about 9 MB more of full-width rows in flight.
            small = try content.boxShrunk(by: max(1, max(content.width, content.height) / 512))
                .fitting(width: 256, height: 256)
                .iccTransform(to: "srgb", fallback: "srgb", intent: VIPS_INTENT_RELATIVE, blackPointCompensation: false)
                .materialized()
        } catch {
            throw fail("cannot decode: \(error.message)")
        }
        let deviation = try small.standardDeviation()
        guard deviation > 2 else { throw fail(String(format: "blank (pixel deviation %.2f)", deviation)) }

        var difference: Double?
        if let preview {
            let previewImage: VipsImage
            do {
                // Only `comparisonSize` pixels of it are compared: a JPEG preview (a 1600 px
                // derivative, 5.8 MB decoded) is decoded at the smallest scale that keeps four
                // times that, instead of whole, beside the master's own buffers.
                let input = EncodedInput(preview)
                let header = try VipsImage.open(input, sequential: false)
                var shrink = 8
                while shrink > 1, max(header.width, header.height) / shrink < 4 * Imaging.comparisonSize { shrink /= 2 }
                let decoded = header.loader == "jpegload" && shrink > 1 ? try VipsImage.openJPEG(input, shrink: shrink) : header
                previewImage = try decoded.normalizedRGB(background: [255, 255, 255])
            } catch {
                throw fail("cannot open the preview: \(error.message)")
            }
            let aspect = Double(plan.contentWidth) / Double(plan.contentHeight)
            let width = aspect >= 1 ? Imaging.comparisonSize : max(1, Int((Double(Imaging.comparisonSize) * aspect).rounded()))
            let height = aspect >= 1 ? max(1, Int((Double(Imaging.comparisonSize) / aspect).rounded())) : Imaging.comparisonSize
            let left = Int((plan.crop.x * Double(previewImage.width)).rounded())
            let top = Int((plan.crop.y * Double(previewImage.height)).rounded())
            let cropWidth = max(1, min(previewImage.width - left, Int((plan.crop.width * Double(previewImage.width)).rounded())))
            let cropHeight = max(1, min(previewImage.height - top, Int((plan.crop.height * Double(previewImage.height)).rounded())))
            let previewSmall = try previewImage.extractArea(left: left, top: top, width: cropWidth, height: cropHeight)
                .resized(width: width, height: height)
            let masterSmall = try small.resized(width: width, height: height)
            let value = try masterSmall.meanAbsoluteDifference(previewSmall)
            guard value <= Imaging.maxPreviewDifference else {
                throw fail(String(format: "does not match the preview (mean difference %.1f > %.1f): wrong orientation or crop", value, Imaging.maxPreviewDifference))
            }
            difference = (value * 100).rounded() / 100
        }
        return VerificationResult(
            width: image.width, height: image.height, colorSpace: cmyk ? "cmyk" : "rgb", profileBytes: profile.count,
            pixelDeviation: (deviation * 100).rounded() / 100, previewDifference: difference)
    }
}
