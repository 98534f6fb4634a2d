import CVips
import Foundation

extension Imaging {
    /// Long edge of the images compared with the preview: small enough to ignore
    /// resampling, JPEG noise and the watermark, large enough to see a wrong turn or crop.
    static let comparisonSize = 24
    /// Mean absolute difference (0–255) above which master and preview are different pictures.
    static let maxPreviewDifference = 28.0

    func verifySync(master: Data, policy resolved: ResolvedPolicy, plan: RenderPlan, preview: Data?) throws(ImagingError) -> VerificationResult {
        func fail(_ reason: String) -> ImagingError {
            ImagingError(.verificationFailed, "\(resolved.name) master: \(reason)")
        }
        let image: VipsImage
        do {
            image = try VipsImage.open(master, sequential: false)
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
        let small = try image.iccTransform(to: "srgb", fallback: "srgb", intent: VIPS_INTENT_RELATIVE, blackPointCompensation: false)
            .extractArea(left: plan.bleed + plan.contentX, top: plan.bleed + plan.contentY, width: plan.contentWidth, height: plan.contentHeight)
            .fitting(width: 256, height: 256)
            .materialized()
        let deviation = try small.standardDeviation()
        guard deviation > 2 else { throw fail(String(format: "blank (pixel deviation %.2f)", deviation)) }

        var difference: Double?
        if let preview {
            let previewImage: VipsImage
            do {
                previewImage = try VipsImage.open(preview, sequential: false).normalizedRGB(background: [255, 255, 255])
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
