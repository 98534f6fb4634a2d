import Foundation
import PressroomColor

/// A policy's output ICC profile, resolved and validated at load time.
public struct OutputProfile: Sendable, Equatable {
    /// As written in the policy (`srgb`, `xcmyk-2017.icc`...).
    public let name: String
    /// What libvips is given: a built-in name or an absolute file path.
    let vipsName: String
    /// The profile's bytes (nil for libvips' built-in sRGB).
    public let data: Data?
    public let colorSpace: ProfileColorSpace

    public var isCMYK: Bool { colorSpace == .cmyk }

    /// The colour source for lcms2 (gamut checks).
    var source: ICCProfileSource { data.map { .data($0) } ?? .sRGB }

    static func resolve(_ name: String, profilesDirectory: URL, context: ColorContext) throws(ImagingError) -> OutputProfile {
        if name == "srgb" {
            return OutputProfile(name: name, vipsName: "srgb", data: nil, colorSpace: .rgb)
        }
        guard !name.contains("/"), !name.hasPrefix(".") else {
            throw ImagingError(.policyInvalid, "profile '\(name)' must be a file name inside \(profilesDirectory.path)")
        }
        let url = profilesDirectory.appendingPathComponent(name)
        do {
            let profile = try ICCProfile(contentsOf: url, context: context)
            return OutputProfile(name: name, vipsName: url.standardizedFileURL.path, data: profile.data, colorSpace: profile.colorSpace)
        } catch {
            throw ImagingError(.badProfile, "profile '\(name)': \(error.message)")
        }
    }
}
