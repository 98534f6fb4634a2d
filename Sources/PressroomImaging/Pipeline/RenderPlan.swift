import Foundation

/// The geometry of a master: pure arithmetic from the upright source size, the
/// policy and the customer's crop, shared by render, verify and the quality report.
struct RenderPlan: Sendable, Equatable {
    /// Trim size in pixels after auto-orientation.
    var trimWidth: Int
    var trimHeight: Int
    var bleed: Int
    /// The part of the source used, adjusted to the product's aspect for `crop` policies.
    var crop: CropRect
    /// Where the image sits inside the trim (the whole trim for `crop` policies).
    var contentX: Int
    var contentY: Int
    var contentWidth: Int
    var contentHeight: Int
    /// Source pixels per printed inch (nil for pixel-sized outputs).
    var effectiveDPI: Double?
    /// Share of the source image area cut away, 0...1.
    var cropLoss: Double

    var canvasWidth: Int { trimWidth + 2 * bleed }
    var canvasHeight: Int { trimHeight + 2 * bleed }

    init(imageWidth: Int, imageHeight: Int, policy: ProductPolicy, crop requested: CropRect?) throws(ImagingError) {
        let crop = try (requested ?? .full).validated()
        let width = Double(imageWidth)
        let height = Double(imageHeight)
        var cropWidth = crop.width * width
        var cropHeight = crop.height * height
        var (trimWidth, trimHeight) = policy.pixelSize
        if policy.orientation == .auto, trimWidth != trimHeight, (trimWidth > trimHeight) != (cropWidth > cropHeight) {
            swap(&trimWidth, &trimHeight)
        }
        self.trimWidth = trimWidth
        self.trimHeight = trimHeight
        self.bleed = policy.bleedPixels
        var adjusted = crop
        let targetAspect = Double(trimWidth) / Double(trimHeight)
        switch policy.aspect {
        case .crop:
            let mismatch = abs((cropWidth / cropHeight) / targetAspect - 1)
            if requested != nil, mismatch > policy.cropTolerance {
                throw ImagingError(.invalidCrop, String(format: "crop aspect %.3f differs from %@'s %.3f by %.1f%% (tolerance %.1f%%)",
                    cropWidth / cropHeight, policy.name, targetAspect, mismatch * 100, policy.cropTolerance * 100))
            }
            // Trim the crop centrally to the exact product aspect.
            if cropWidth / cropHeight > targetAspect {
                let newWidth = cropHeight * targetAspect
                adjusted.x += (cropWidth - newWidth) / 2 / width
                adjusted.width = newWidth / width
                cropWidth = newWidth
            } else {
                let newHeight = cropWidth / targetAspect
                adjusted.y += (cropHeight - newHeight) / 2 / height
                adjusted.height = newHeight / height
                cropHeight = newHeight
            }
            contentX = 0
            contentY = 0
            contentWidth = trimWidth
            contentHeight = trimHeight
        case .fit:
            let scale = min(Double(trimWidth) / cropWidth, Double(trimHeight) / cropHeight)
            contentWidth = min(trimWidth, max(1, Int((cropWidth * scale).rounded())))
            contentHeight = min(trimHeight, max(1, Int((cropHeight * scale).rounded())))
            contentX = (trimWidth - contentWidth) / 2
            contentY = (trimHeight - contentHeight) / 2
        }
        self.crop = adjusted
        if policy.size.millimetresPerUnit != nil {
            // Source pixels spread over the printed content width.
            effectiveDPI = cropWidth / (Double(contentWidth) / policy.size.dpi)
        } else {
            effectiveDPI = nil
        }
        cropLoss = max(0, 1 - (cropWidth * cropHeight) / (width * height))
    }
}
