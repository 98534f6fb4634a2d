import CVips
import Foundation

extension Imaging {
    /// Renders a master into a spool file and verifies it from there. Nothing here holds the
    /// master whole: the pixels stream from the decode through the encoder into the file (one
    /// libvips pipeline, as the vips CLI would run it), and verification reads the file back
    /// sequentially. The file is removed again if anything fails. `sha256` is the source's (hex),
    /// the first part of the master's key; nil hashes it here.
    func renderSync(source: EncodedSource, sha256: String?, policy resolved: ResolvedPolicy, crop: CropRect?, preview: Data?) throws(ImagingError) -> RenderResult {
        let policy = resolved.policy
        guard policy.kind == .product else {
            // A master of a preview would be a padded, unwatermarked square no customer sees.
            throw ImagingError(.policyInvalid, "\(policy.name) is a \(policy.kind.rawValue) policy, which derive makes; render takes product policies")
        }
        let format = policy.output.encoder
        let sourceSHA256: String
        switch (sha256, source) {
        case (let given?, _): sourceSHA256 = given
        case (nil, .bytes(let data)): sourceSHA256 = Imaging.sha256(data)
        case (nil, .file(let file)): sourceSHA256 = try Imaging.sha256(file: file)
        }
        // The source's bytes (or its file) are what libvips reads while the master is encoded, not a copy.
        let (plan, spooled) = try EncodedInput.opening(source) { input throws(ImagingError) in
            let probe = try probeImage(input).probe
            let plan = try RenderPlan(imageWidth: probe.uprightWidth, imageHeight: probe.uprightHeight, policy: policy, crop: crop)
            let canvas = try masterPipeline(input, probe: probe, plan: plan, policy: resolved)
            return (plan, try SpoolWriter.write(canvas, as: format, into: configuration.spoolDirectory))
        }
        let cropKey = SHA256Hex.digest(Data((crop.map { $0.description } ?? "auto").utf8)).prefix(8)
        let key = "masters/\(sourceSHA256)/\(policy.name)-\(resolved.shortDigest)-\(cropKey)-v\(Imaging.masterVersion).\(format.fileExtension)"
        let verification: VerificationResult
        do {
            verification = try verifySync(master: spooled.file, policy: resolved, plan: plan, preview: preview)
        } catch {
            try? FileManager.default.removeItem(at: spooled.file)
            throw error
        }
        logger.debug("rendered", metadata: ["key": "\(key)", "bytes": "\(spooled.byteCount)"])
        let master = MasterFile(key: key, file: spooled.file, contentType: format.contentType, byteCount: spooled.byteCount,
                                sha256: spooled.sha256, policy: policy.name)
        return RenderResult(master: master, verification: verification, crop: plan.crop, effectiveDPI: plan.effectiveDPI)
    }

    /// The master's pixels as one lazy libvips pipeline: decode (shrink-on-load), crop, one
    /// resampling pass to the content size, background, bleed, output colour, resolution.
    private func masterPipeline(_ source: EncodedInput, probe: ImageProbe, plan: RenderPlan, policy resolved: ResolvedPolicy) throws(ImagingError) -> VipsImage {
        let policy = resolved.policy
        var canvas = try masterContent(source, probe: probe, plan: plan, policy: policy)
        let sampleBytes = canvas.bandFormat == VIPS_FORMAT_USHORT ? 2 : 1
        let threads = masterThreads(rowBytes: plan.canvasWidth * max(canvas.bands, resolved.profile.isCMYK ? 4 : 3) * sampleBytes)
        if plan.bleed > 0 {
            let bleed = plan.bleed
            // A blurred background was rendered to memory (see `background`): it can be read in any order.
            let inMemory = policy.aspect == .fit && policy.background.kind == .blur
                && (plan.contentWidth != plan.trimWidth || plan.contentHeight != plan.trimHeight)
            switch policy.bleed.fill {
            case .mirror where !inMemory && bleed < canvas.width && bleed < canvas.height:
                canvas = try mirroredBleed(canvas, bleed: bleed, threads: threads) { () throws(ImagingError) in
                    try self.masterContent(source, probe: probe, plan: plan, policy: policy)
                }
            case .mirror, .copy, .background:
                let extend: VipsExtend
                switch policy.bleed.fill {
                case .mirror: extend = VIPS_EXTEND_MIRROR
                case .copy: extend = VIPS_EXTEND_COPY
                case .background: extend = VIPS_EXTEND_BACKGROUND
                }
                // Copied edges re-read only the first and last row; a mirror here reads memory.
                canvas = try canvas.embed(
                    x: bleed, y: bleed, width: plan.canvasWidth, height: plan.canvasHeight,
                    extend: extend, background: colorValues(policy.background.color, for: canvas))
            }
        }
        // Output colour: from the embedded profile (sRGB when none) to the policy's, with its intent and BPC.
        canvas = try canvas.iccTransform(
            to: resolved.profile.vipsName, fallback: "srgb", intent: policy.output.intent.vipsIntent,
            blackPointCompensation: policy.output.blackPointCompensation)
        canvas = try canvas.settingResolution(dotsPerInch: policy.size.dpi)
        if policy.output.stripMetadata {
            canvas = try canvas.strippingMetadata()
        }
        if threads < Int(vips_concurrency_get()) {
            canvas = try canvas.limitingThreads(to: threads)
        }
        return canvas
    }

    /// The libvips threads for a master whose rows take `rowBytes` at their widest (see
    /// ``ImagingConfiguration/masterRowBudget``): every thread holds strips of the full width in
    /// each step of the pipeline, so a wider master gets fewer, down to one, and its memory stays
    /// flat as masters grow. Threads beyond the cores' share of a full render lane add no throughput.
    func masterThreads(rowBytes: Int) -> Int {
        let all = max(1, Int(vips_concurrency_get()))
        guard configuration.masterRowBudget > 0 else { return all }
        return max(1, min(all, configuration.masterRowBudget / max(1, rowBytes)))
    }

    /// The trim area's pixels, lazily: shrink-on-load decode, crop, the content size, background.
    private func masterContent(_ source: EncodedInput, probe: ImageProbe, plan: RenderPlan, policy: ProductPolicy) throws(ImagingError) -> VipsImage {
        let sourceWidth = Double(probe.uprightWidth)
        let sourceHeight = Double(probe.uprightHeight)
        // Shrink on load only as far as the crop still covers the content at full resolution. The
        // box is the source at exactly that scale, so the crop of the thumbnail is the content
        // size to a pixel or two and needs no second resampling pass.
        let cropWidth = plan.crop.width * sourceWidth
        let cropHeight = plan.crop.height * sourceHeight
        let scale = min(1, max(Double(plan.contentWidth) / cropWidth, Double(plan.contentHeight) / cropHeight))
        let boxWidth = min(probe.uprightWidth, Int((sourceWidth * scale).rounded(.up)))
        let boxHeight = min(probe.uprightHeight, Int((sourceHeight * scale).rounded(.up)))
        var image = try VipsImage.thumbnail(source, width: boxWidth, height: boxHeight, exportProfile: nil, intent: policy.output.intent.vipsIntent)
        // libvips' thumbnail converts CMYK to sRGB but leaves the CMYK profile attached; drop it
        // so the output transform starts from sRGB.
        if image.interpretation != VIPS_INTERPRETATION_CMYK, image.bands >= 3, image.iccColorSpaceSignature == "CMYK" {
            image = try image.removingProfile()
        }
        if image.hasAlpha || image.bands < 3 {
            image = try image.normalizedRGB(background: policy.background.color)
        }

        // Crop in the thumbnail's coordinates, then bring it to the content size exactly.
        let left = min(image.width - 1, Int((plan.crop.x * Double(image.width)).rounded()))
        let top = min(image.height - 1, Int((plan.crop.y * Double(image.height)).rounded()))
        let width = max(1, min(image.width - left, Int((plan.crop.width * Double(image.width)).rounded())))
        let height = max(1, min(image.height - top, Int((plan.crop.height * Double(image.height)).rounded())))
        var content = try image.extractArea(left: left, top: top, width: width, height: height)
        if abs(width - plan.contentWidth) <= 2, abs(height - plan.contentHeight) <= 2 {
            content = try content.pinned(width: plan.contentWidth, height: plan.contentHeight)
        } else {
            content = try content.resized(width: plan.contentWidth, height: plan.contentHeight)
        }
        if policy.aspect == .fit, plan.contentWidth != plan.trimWidth || plan.contentHeight != plan.trimHeight {
            content = try background(for: content, plan: plan, policy: policy)
        }
        return content
    }

    /// A mirrored bleed around a sequential pipeline without rendering it to memory. The sides
    /// mirror within each row; the top and bottom reflect rows, which a sequential decode gives
    /// only top-down: the top comes from a second pass over just the first `bleed` rows (kept in
    /// memory), the bottom from a cache of the last rows read. Memory grows with the bleed and
    /// the width, not with the print's area. Same pixels as `embed` with `VIPS_EXTEND_MIRROR`.
    private func mirroredBleed(_ content: VipsImage, bleed: Int, threads: Int, firstRows: () throws(ImagingError) -> VipsImage) throws(ImagingError) -> VipsImage {
        let width = content.width + 2 * bleed
        let height = content.height
        let middle = try content.embed(x: bleed, y: 0, width: width, height: height, extend: VIPS_EXTEND_MIRROR)
            .cachingRecentRows(bleed, threads: threads)
        let top = try firstRows().extractArea(left: 0, top: 0, width: content.width, height: bleed)
            .embed(x: bleed, y: 0, width: width, height: bleed, extend: VIPS_EXTEND_MIRROR)
            // Rendered top-down, then flipped in memory: a flip of the sequential decode would
            // read its rows bottom-up, which only worked while libvips' line cache held the
            // whole bleed (see `pressroom_vips_init`). Not a watched root: the join would
            // report the sink's progress to it, not to the decode, and cancelling the job
            // would then stop nothing.
            .materialized(watched: false)
            .flipped(horizontally: false)
        let bottom = try middle.extractArea(left: 0, top: height - bleed, width: width, height: bleed).flipped(horizontally: false)
        return try top.joined(below: middle).joined(below: bottom)
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
            // The blurred copy and the sharp image read the content at different rates: a
            // sequential decode cannot serve both, so this (rare) fill renders the content to memory.
            let region = try region.materialized()
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
