import CLcms2

/// Converts 8-bit device pixels of one profile to Lab, to measure colours.
/// Owns its `cmsHTRANSFORM` and deletes it exactly once; built without lcms2's
/// one-pixel cache, so it may be shared between threads.
public final class LabConverter: @unchecked Sendable {
    private let transform: cmsHTRANSFORM
    private let channels: Int
    // Keep the profiles alive as long as the transform that was built from them.
    private let profiles: [ICCProfile]

    public init(from profile: ICCProfile, intent: RenderingIntent = .relative) throws(ColorError) {
        let lab = ICCProfile.lab(context: profile.context)
        let context = profile.context
        let format = profile.colorSpace.pixelFormat8
        let (transform, message) = context.capturingErrors {
            cmsCreateTransformTHR(context.context, profile.handle, format, lab.handle, pressroom_TYPE_Lab_DBL, intent.lcmsValue, cmsUInt32Number(cmsFLAGS_NOCACHE))
        }
        guard let transform else {
            throw ColorError(.transformFailed, message ?? "cannot build a transform to Lab")
        }
        self.transform = transform
        self.channels = profile.colorSpace == .cmyk ? 4 : (profile.colorSpace == .gray ? 1 : 3)
        self.profiles = [profile, lab]
    }

    deinit {
        cmsDeleteTransform(transform)
    }

    /// Converts interleaved 8-bit pixels (3 channels for RGB, 4 for CMYK, 1 for grey).
    public func convert(_ pixels: [UInt8]) -> [LabColor] {
        let count = pixels.count / channels
        guard count > 0 else { return [] }
        var output = [cmsCIELab](repeating: cmsCIELab(), count: count)
        pixels.withUnsafeBytes { input in
            output.withUnsafeMutableBytes { out in
                cmsDoTransform(transform, input.baseAddress, out.baseAddress, cmsUInt32Number(count))
            }
        }
        return output.map { LabColor(l: $0.L, a: $0.a, b: $0.b) }
    }
}
