import CLcms2

/// ICC rendering intents, named as in policies and in libvips.
public enum RenderingIntent: String, Sendable, Codable, CaseIterable {
    case perceptual, relative, saturation, absolute

    /// The lcms2 intent number.
    public var lcmsValue: cmsUInt32Number {
        switch self {
        case .perceptual: cmsUInt32Number(INTENT_PERCEPTUAL)
        case .relative: cmsUInt32Number(INTENT_RELATIVE_COLORIMETRIC)
        case .saturation: cmsUInt32Number(INTENT_SATURATION)
        case .absolute: cmsUInt32Number(INTENT_ABSOLUTE_COLORIMETRIC)
        }
    }
}
