import CLcms2
import Foundation

/// Owns an lcms2 profile handle (`cmsHPROFILE`) and closes it exactly once.
///
/// Opening validates more than lcms2's header parse: the profile must also be
/// usable in a transform to or from Lab, because libvips silently falls back to
/// a default profile when an embedded one is broken — Pressroom rejects it instead.
public final class ICCProfile: @unchecked Sendable {
    let handle: cmsHPROFILE
    public let context: ColorContext
    /// The profile's bytes as given (empty for built-in profiles).
    public let data: Data

    /// Opens and validates a profile from memory.
    public init(data: Data, context: ColorContext) throws(ColorError) {
        let (handle, message) = context.capturingErrors {
            data.withUnsafeBytes { raw in
                cmsOpenProfileFromMemTHR(context.context, raw.baseAddress, cmsUInt32Number(raw.count))
            }
        }
        guard let handle else {
            throw ColorError(.badProfile, message ?? "not an ICC profile (\(data.count) bytes)")
        }
        self.handle = handle
        self.context = context
        self.data = data
        try validate()
    }

    /// Opens and validates a profile file.
    public convenience init(contentsOf url: URL, context: ColorContext) throws(ColorError) {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw ColorError(.badProfile, "cannot read \(url.path): \(error.localizedDescription)")
        }
        try self.init(data: data, context: context)
    }

    private init(handle: cmsHPROFILE, context: ColorContext) {
        self.handle = handle
        self.context = context
        self.data = Data()
    }

    /// lcms2's built-in sRGB profile.
    public static func sRGB(context: ColorContext) -> ICCProfile {
        ICCProfile(handle: cmsCreate_sRGBProfileTHR(context.context)!, context: context)
    }

    /// The D50 CIE Lab (v4) profile used as the measuring space for ΔE.
    public static func lab(context: ColorContext) -> ICCProfile {
        ICCProfile(handle: cmsCreateLab4ProfileTHR(context.context, nil)!, context: context)
    }

    deinit {
        cmsCloseProfile(handle)
    }

    public var colorSpace: ProfileColorSpace { ProfileColorSpace(cmsGetColorSpace(handle)) }

    /// The profile's English description, for logs and reports.
    public var profileDescription: String {
        var buffer = [wchar_t](repeating: 0, count: 256)
        let count = cmsGetProfileInfo(handle, cmsInfoDescription, "en", "US", &buffer, cmsUInt32Number(buffer.count * MemoryLayout<wchar_t>.size))
        guard count > 0 else { return "" }
        let scalars = buffer.prefix { $0 != 0 }.compactMap { Unicode.Scalar(UInt32(bitPattern: $0)) }
        return String(String.UnicodeScalarView(scalars))
    }

    private func validate() throws(ColorError) {
        let space = colorSpace
        guard space == .rgb || space == .cmyk || space == .gray else {
            throw ColorError(.unsupportedProfile, "profile colour space \(space.rawValue) is not RGB, CMYK or grey")
        }
        let lab = ICCProfile.lab(context: context)
        let format = space.pixelFormat8
        // Input direction: device → Lab must build.
        let (transform, message) = context.capturingErrors {
            cmsCreateTransformTHR(context.context, handle, format, lab.handle, pressroom_TYPE_Lab_DBL, cmsUInt32Number(INTENT_RELATIVE_COLORIMETRIC), 0)
        }
        guard let transform else {
            throw ColorError(.badProfile, message ?? "profile cannot be used as an input profile")
        }
        cmsDeleteTransform(transform)
        if let message {
            throw ColorError(.badProfile, message)
        }
    }
}

extension ProfileColorSpace {
    /// The 8-bit lcms2 pixel format for this colour space.
    var pixelFormat8: cmsUInt32Number {
        switch self {
        case .cmyk: pressroom_TYPE_CMYK_8
        case .gray: pressroom_TYPE_GRAY_8
        default: pressroom_TYPE_RGB_8
        }
    }
}
