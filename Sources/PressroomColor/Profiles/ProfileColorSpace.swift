import CLcms2

/// The data colour space of an ICC profile, the part policies and verification care about.
public enum ProfileColorSpace: String, Sendable, Codable, Equatable {
    case rgb, cmyk, gray, lab, other

    init(_ signature: cmsColorSpaceSignature) {
        switch signature {
        case cmsSigRgbData: self = .rgb
        case cmsSigCmykData: self = .cmyk
        case cmsSigGrayData: self = .gray
        case cmsSigLabData: self = .lab
        default: self = .other
        }
    }
}
