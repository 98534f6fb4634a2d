import Foundation
import PressroomSupport
import Yams

/// Parses and checks policy files; every error names the file and the field.
enum PolicyValidator {
    static func parse(yaml: String, file: String) throws(ImagingError) -> ProductPolicy {
        do {
            guard let node = try Yams.compose(yaml: yaml), node.mapping != nil else {
                throw ImagingError(.policyInvalid, "\(file): the document must be a mapping")
            }
            // Strict, so a typo is an error instead of a silently ignored field.
            return try YAMLDecoder().decode(Strictly<ProductPolicy>.self, from: yaml).value
        } catch let error as ImagingError {
            throw error
        } catch let error where StrictDecoding.unknownKey(in: error) != nil {
            let unknown = StrictDecoding.unknownKey(in: error)!
            throw ImagingError(.policyInvalid, "\(file): field '\(unknown.field)': \(unknown)")
        } catch let error as DecodingError {
            throw ImagingError(.policyInvalid, "\(file): \(describe(error))")
        } catch {
            throw ImagingError(.policyInvalid, "\(file): invalid YAML: \(error)")
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context, _ extra: CodingKey? = nil) -> String {
            (context.codingPath + (extra.map { [$0] } ?? [])).map(\.stringValue).joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "field '\(path(context, key))': required field is missing"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return "field '\(path(context))': \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }

    static func validate(_ p: ProductPolicy, profile: OutputProfile, file: String) throws(ImagingError) {
        func fail(_ field: String, _ message: String) -> ImagingError {
            ImagingError(.policyInvalid, "\(file): field '\(field)': \(message)")
        }
        let base = (file as NSString).deletingPathExtension
        guard !p.name.isEmpty, p.name.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }) else {
            throw fail("name", "'\(p.name)' must be lowercase letters, digits and '-'")
        }
        guard p.name == base else { throw fail("name", "'\(p.name)' must match the file name '\(base)'") }
        guard p.size.width > 0, p.size.height > 0, p.size.width.isFinite, p.size.height.isFinite else {
            throw fail("size", "width and height must be positive")
        }
        switch (p.kind, p.size.unit) {
        case (.product, .px):
            throw fail("size.unit", "products need a physical size (mm or in) so DPI can be checked")
        case (.thumbnail, .px), (.preview, .px):
            guard p.size.width == p.size.width.rounded(), p.size.height == p.size.height.rounded(), p.size.width <= 10000, p.size.height <= 10000 else {
                throw fail("size", "pixel sizes must be whole numbers up to 10000")
            }
        case (.thumbnail, _), (.preview, _):
            throw fail("size.unit", "thumbnails and previews are sized in px")
        default:
            guard (72...1200).contains(p.size.dpi) else { throw fail("size.dpi", "\(p.size.dpi) is outside 72...1200") }
            let (w, h) = p.pixelSize
            guard w * h <= 400_000_000 else { throw fail("size", "\(w)×\(h) px exceeds 400 MP") }
        }
        guard (0...0.5).contains(p.cropTolerance) else { throw fail("cropTolerance", "must be within 0...0.5") }
        guard (0...100).contains(p.bleed.mm) else { throw fail("bleed.mm", "must be within 0...100 mm") }
        guard p.bleed.mm == 0 || p.kind == .product else { throw fail("bleed.mm", "only products have bleed") }
        guard p.safeArea >= 0 else { throw fail("safeArea", "must not be negative") }
        guard p.resolution.minimum > 0 else { throw fail("resolution.minimum", "must be positive") }
        guard p.resolution.warning >= p.resolution.minimum else {
            throw fail("resolution.warning", "must be at least resolution.minimum (\(p.resolution.minimum))")
        }
        guard p.background.color.count == 3, p.background.color.allSatisfy({ (0...255).contains($0) }) else {
            throw fail("background.color", "must be three values 0...255")
        }
        guard p.background.sigma > 0, p.background.sigma <= 200 else { throw fail("background.sigma", "must be within (0, 200]") }
        if let watermark = p.watermark {
            switch (watermark.text, watermark.image) {
            case (nil, nil): throw fail("watermark", "set one of 'text' or 'image'")
            case (.some, .some): throw fail("watermark", "set only one of 'text' and 'image'")
            case (let text?, nil): guard !text.isEmpty else { throw fail("watermark.text", "must not be empty") }
            case (nil, let image?): guard !image.isEmpty else { throw fail("watermark.image", "must not be empty") }
            }
            guard (0...1).contains(watermark.opacity) else { throw fail("watermark.opacity", "must be within 0...1") }
            guard (0.05...1).contains(watermark.width) else { throw fail("watermark.width", "must be within 0.05...1") }
        }
        guard (1...100).contains(p.output.quality) else { throw fail("output.quality", "must be within 1...100") }
        guard (0...9).contains(p.output.pngCompression) else { throw fail("output.pngCompression", "must be within 0...9") }
        if profile.isCMYK {
            guard p.output.format != .png else { throw fail("output.format", "PNG cannot hold CMYK; use jpeg or tiff") }
            guard p.kind == .product else { throw fail("output.profile", "thumbnails and previews must be RGB") }
            guard p.watermark == nil else { throw fail("watermark", "watermarks are for RGB previews") }
        } else if profile.colorSpace != .rgb {
            throw fail("output.profile", "output profiles must be RGB or CMYK, not \(profile.colorSpace.rawValue)")
        }
    }
}
