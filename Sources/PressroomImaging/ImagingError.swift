/// Why an image could not be processed. `isPermanent` tells a job runner whether
/// a retry can help: everything caused by the input or the policy is permanent.
public struct ImagingError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, Equatable, Codable {
        /// Content sniffing found no allowed image format (SVG, PDF, text named .jpg...).
        case unsupportedFormat
        /// Header dimensions exceed the pixel cap.
        case tooManyPixels
        /// The header's shape is degenerate: a side below the minimum or an extreme aspect ratio.
        case degenerateShape
        /// The input exceeds the byte cap.
        case tooLarge
        /// The decoder failed: truncated, broken header, bad data.
        case corrupt
        /// An embedded or configured ICC profile is malformed or unusable.
        case badProfile
        /// The rendered master failed its checks.
        case verificationFailed
        /// A policy file is invalid (the message names the file and field).
        case policyInvalid
        /// The crop rectangle is outside the image or its aspect is outside the policy's tolerance.
        case invalidCrop
        /// libvips failed for a reason not attributable to the input (e.g. memory).
        case `internal`
    }

    public let code: Code
    /// Human-readable reason, including libvips' or lcms2's own message when there is one.
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// Only internal failures may succeed on a retry; bad input stays bad.
    public var isPermanent: Bool { code != .internal }

    public var description: String { "\(code.rawValue): \(message)" }
}
