/// A Little CMS failure, carrying lcms2's own message.
public struct ColorError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, Equatable {
        /// The profile bytes are not a usable ICC profile.
        case badProfile
        /// lcms2 could not build a transform between the given profiles and formats.
        case transformFailed
        /// The profile is valid but not of the kind the caller needs (e.g. RGB where CMYK is required).
        case unsupportedProfile
    }

    public let code: Code
    public let message: String

    /// Colour errors come from the data (profiles), so retrying never helps.
    public var isPermanent: Bool { true }

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
