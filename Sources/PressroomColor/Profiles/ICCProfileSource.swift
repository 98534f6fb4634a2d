import Foundation

/// Where a profile comes from, so a component can open it in its own context.
public enum ICCProfileSource: Sendable, Equatable {
    /// lcms2's built-in sRGB.
    case sRGB
    /// ICC bytes (a file's contents or a profile embedded in an image).
    case data(Data)

    public func open(in context: ColorContext) throws(ColorError) -> ICCProfile {
        switch self {
        case .sRGB: ICCProfile.sRGB(context: context)
        case .data(let data): try ICCProfile(data: data, context: context)
        }
    }
}
