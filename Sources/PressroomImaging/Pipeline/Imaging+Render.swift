import CVips
import Foundation

extension Imaging {
    func renderSync(source: Data, policy resolved: ResolvedPolicy, crop: CropRect?, preview: Data?) throws(ImagingError) -> RenderResult {
        let policy = resolved.policy
        guard policy.kind == .product else {
            // A master of a preview would be a padded, unwatermarked square no customer sees.
            throw ImagingError(.policyInvalid, "\(policy.name) is a \(policy.kind.rawValue) policy, which derive makes; render takes product policies")
        }
        let (probe, _) = try probeImage(source)
        let plan = try RenderPlan(imageWidth: probe.uprightWidth, imageHeight: probe.uprightHeight, policy: policy, crop: crop)
        let sourceWidth = Double(probe.uprightWidth)
        let sourceHeight = Double(probe.uprightHeight)

        // Shrink on load only as far as the crop still covers the content at full resolution.
        let cropWidth = plan.crop.width * sourceWidth
        let cropHeight = plan.crop.height * sourceHeight
        let scale = min(1, max(Double(plan.contentWidth) / cropWidth, Double(plan.contentHeight) / cropHeight))
        let boxWidth = min(probe.uprightWidth, Int((sourceWidth * scale).rounded(.up)) + 2)
        let boxHeight = min(probe.uprightHeight, Int((sourceHeight * scale).rounded(.up)) + 2)
        var image = try VipsImage.thumbnail(source, width: boxWidth, height: boxHeight, exportProfile: nil, intent: policy.output.intent.vipsIntent)
        // libvips' thumbnail converts CMYK to sRGB but leaves the CMYK profile attached; drop it
        // so the output transform starts from sRGB.
        if image.interpretation != VIPS_INTERPRETATION_CMYK, image.bands >= 3, image.iccColorSpaceSignature == "CMYK" {
            image = try image.removingProfile()
        }
        if image.hasAlpha || image.bands < 3 {
            image = try image.normalizedRGB(background: policy.background.color)
        }

        // Crop in the thumbnail's coordinates, then scale to the content size exactly.
        let left = min(image.width - 1, Int((plan.crop.x * Double(image.width)).rounded()))
        let top = min(image.height - 1, Int((plan.crop.y * Double(image.height)).rounded()))
        let width = max(1, min(image.width - left, Int((plan.crop.width * Double(image.width)).rounded())))
        let height = max(1, min(image.height - top, Int((plan.crop.height * Double(image.height)).rounded())))
        let region = try image.extractArea(left: left, top: top, width: width, height: height)
            .resized(width: plan.contentWidth, height: plan.contentHeight)
            // Decoding is sequential (shrink-on-load); mirrored bleed and blurred backgrounds
            // read out of order, so the content is rendered to memory once here.
            .materialized()

        var canvas = region
        if policy.aspect == .fit, plan.contentWidth != plan.trimWidth || plan.contentHeight != plan.trimHeight {
            canvas = try background(for: region, plan: plan, policy: policy)
        }
        if plan.bleed > 0 {
            let extend: VipsExtend
            switch policy.bleed.fill {
            case .mirror: extend = VIPS_EXTEND_MIRROR
            case .copy: extend = VIPS_EXTEND_COPY
            case .background: extend = VIPS_EXTEND_BACKGROUND
            }
            canvas = try canvas.embed(
                x: plan.bleed, y: plan.bleed, width: plan.canvasWidth, height: plan.canvasHeight,
                extend: extend, background: colorValues(policy.background.color, for: canvas))
        }
        // Output colour: from the embedded profile (sRGB when none) to the policy's, with its intent and BPC.
        canvas = try canvas.iccTransform(
            to: resolved.profile.vipsName, fallback: "srgb", intent: policy.output.intent.vipsIntent,
            blackPointCompensation: policy.output.blackPointCompensation)
        canvas = try canvas.settingResolution(dotsPerInch: policy.size.dpi)
        if policy.output.stripMetadata {
            canvas = try canvas.strippingMetadata()
        }
        let format = policy.output.encoder
        let data = try canvas.encoded(format)
        let cropKey = SHA256Hex.digest(Data((crop.map { $0.description } ?? "auto").utf8)).prefix(8)
        let key = "masters/\(Imaging.sha256(source))/\(policy.name)-\(resolved.shortDigest)-\(cropKey)-v\(Imaging.pipelineVersion).\(format.fileExtension)"
        let verification = try verifySync(master: data, policy: resolved, plan: plan, preview: preview)
        logger.debug("rendered", metadata: ["key": "\(key)", "bytes": "\(data.count)"])
        return RenderResult(
            master: ImageOutput(key: key, data: data, contentType: format.contentType, policy: policy.name),
            verification: verification, crop: plan.crop, effectiveDPI: plan.effectiveDPI)
    }

    /// Places the fitted image on the policy's background: a flat colour or a blurred, enlarged copy.
    private func background(for region: VipsImage, plan: RenderPlan, policy: ProductPolicy) throws(ImagingError) -> VipsImage {
        let x = plan.contentX
        let y = plan.contentY
        switch policy.background.kind {
        case .color:
            return try region.embed(
                x: x, y: y, width: plan.trimWidth, height: plan.trimHeight, extend: VIPS_EXTEND_BACKGROUND,
                background: colorValues(policy.background.color, for: region))
        case .blur:
            let cover = max(Double(plan.trimWidth) / Double(region.width), Double(plan.trimHeight) / Double(region.height))
            let coverWidth = max(plan.trimWidth, Int((Double(region.width) * cover).rounded(.up)))
            let coverHeight = max(plan.trimHeight, Int((Double(region.height) * cover).rounded(.up)))
            let enlarged = try region.resized(width: coverWidth, height: coverHeight)
                .extractArea(left: (coverWidth - plan.trimWidth) / 2, top: (coverHeight - plan.trimHeight) / 2, width: plan.trimWidth, height: plan.trimHeight)
                .blurred(sigma: policy.background.sigma)
                .cast(region.bandFormat)
            return try enlarged.inserting(region, x: x, y: y)
        }
    }

    /// A background colour in the image's band layout (RGB 0–255 given; 16-bit scaled).
    private func colorValues(_ rgb: [Double], for image: VipsImage) -> [Double] {
        let scaled = image.bandFormat == VIPS_FORMAT_USHORT ? rgb.map { $0 * 257 } : rgb
        return Array(scaled.prefix(image.bands)) + Array(repeating: 255, count: max(0, image.bands - scaled.count))
    }
}
