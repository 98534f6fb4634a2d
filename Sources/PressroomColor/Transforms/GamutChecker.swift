import CLcms2

/// Measures which RGB pixels a press profile cannot reproduce, with an lcms2
/// proofing transform and `cmsFLAGS_GAMUTCHECK`.
///
/// Building the gamut-check pipeline of a large press profile takes lcms2 about
/// a second, so make one per profile and reuse it; it is safe to share.
///
/// The transform writes Lab 16-bit and marks out-of-gamut pixels with the alarm
/// code (0, 0, 0) — in Lab16 encoding that is L=0, a=b=-128, a colour no real
/// pixel maps to (L=0 forces a=b=0), so the mark is unambiguous. Alarm codes live
/// in the checker's own context, so checkers never disturb each other.
public final class GamutChecker: @unchecked Sendable {
    private let transform: cmsHTRANSFORM
    private let profiles: [ICCProfile]
    private let context: ColorContext

    /// - Parameters:
    ///   - source: the RGB profile of the pixels to check (usually sRGB).
    ///   - press: the output profile whose gamut is tested (CMYK).
    public init(source sourceData: ICCProfileSource, press pressData: ICCProfileSource, intent: RenderingIntent) throws(ColorError) {
        let context = ColorContext()
        context.setAlarmCodes([0, 0, 0])
        let source = try sourceData.open(in: context)
        let press = try pressData.open(in: context)
        guard source.colorSpace == .rgb else {
            throw ColorError(.unsupportedProfile, "gamut check needs an RGB source profile")
        }
        let lab = ICCProfile.lab(context: context)
        let (transform, message) = context.capturingErrors {
            cmsCreateProofingTransformTHR(
                context.context, source.handle, pressroom_TYPE_RGB_8, lab.handle, pressroom_TYPE_Lab_16,
                press.handle, intent.lcmsValue, cmsUInt32Number(INTENT_RELATIVE_COLORIMETRIC),
                // NOCACHE: the transform is then safe to share between threads.
                cmsUInt32Number(cmsFLAGS_GAMUTCHECK | cmsFLAGS_NOCACHE))
        }
        guard let transform else {
            throw ColorError(.transformFailed, message ?? "cannot build a gamut-check transform")
        }
        self.transform = transform
        self.profiles = [source, press, lab]
        self.context = context
    }

    deinit {
        cmsDeleteTransform(transform)
    }

    /// The share (0...1) of interleaved 8-bit RGB pixels outside the press gamut.
    public func outOfGamutShare(rgb pixels: [UInt8]) -> Double {
        let count = pixels.count / 3
        guard count > 0 else { return 0 }
        var output = [UInt16](repeating: 0, count: count * 3)
        pixels.withUnsafeBytes { input in
            output.withUnsafeMutableBytes { out in
                cmsDoTransform(transform, input.baseAddress, out.baseAddress, cmsUInt32Number(count))
            }
        }
        var outside = 0
        for index in 0..<count where output[index * 3] == 0 && output[index * 3 + 1] == 0 && output[index * 3 + 2] == 0 {
            outside += 1
        }
        return Double(outside) / Double(count)
    }
}
