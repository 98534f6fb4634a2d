/// The one decode a derive works from, and the smaller images made from it.
///
/// A fitting into a box no larger than the analysis image (the report's 1024 px, kept in
/// memory: the sharpness measurement reads it whole anyway) is resampled from that image
/// instead of from the full base: a 320 px thumbnail or the gamut sample from 1024 px rather
/// than 1600 px is a third of the work. Which image a fitting starts from depends only on the
/// sizes, so a derivative is the same bytes whether `derive` or `policyOutput` makes it.
/// Used by one pipeline call on one thread.
final class DerivativeBase {
    /// Upright 8-bit sRGB pixels in memory, fitted into the largest box needed.
    let image: VipsImage
    private var analysisImage: VipsImage?

    init(_ image: VipsImage) {
        self.image = image
    }

    /// The image the report measures: the base fitted into `Imaging.analysisSize`, made once.
    func analysis() throws(ImagingError) -> VipsImage {
        if let analysisImage { return analysisImage }
        let fitted = try image.fitting(width: Imaging.analysisSize, height: Imaging.analysisSize)
        let made = fitted === image ? image : try fitted.materialized()
        analysisImage = made
        return made
    }

    /// The base scaled down (never up) to fit a box: the size `image.fitting` gives, resampled
    /// from the smallest image made here that covers it.
    func fitted(width: Int, height: Int) throws(ImagingError) -> VipsImage {
        let size = image.fittedSize(width: width, height: height)
        let analysisSize = image.fittedSize(width: Imaging.analysisSize, height: Imaging.analysisSize)
        let from = size.width <= analysisSize.width && size.height <= analysisSize.height ? try analysis() : image
        return try from.resized(width: size.width, height: size.height)
    }
}
